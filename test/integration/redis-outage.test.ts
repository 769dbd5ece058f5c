import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CallContext, Executor, type ServiceCall } from '../../src/index.js';
import type { RateWindow } from '../../src/core/schemas.js';
import { RedisLimiter, type RedisLimiterOptions, type RedisTicket } from '../../src/limits/redis-limiter.js';
import type { Acquisition } from '../../src/limits/types.js';
import { echo } from '../helpers/services.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { redisAvailable, redisTest } from '../helpers/redis-test.js';

// Every test here kills and restarts its own redis-server, so they run one at a time.
const test = redisTest();
const closers: (() => Promise<void>)[] = [];

test.afterEach.always(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function server(): Promise<RedisServer> {
  const s = await startRedis();
  closers.push(() => s.stop());
  return s;
}

function limiter(s: RedisServer, requests: RateWindow[], tokens: RateWindow[], options: Partial<RedisLimiterOptions>): RedisLimiter {
  const l = new RedisLimiter(requests, tokens, { url: s.url, key: 'outage', commandTimeoutMs: 200, ...options });
  closers.push(() => l.close());
  return l;
}


/** Acquires once; an admitted request is reported sent at once, as the executor does when it dispatches. */
async function admit(l: RedisLimiter, tokens: number): Promise<Acquisition> {
  const a = await l.acquire(tokens);
  if (a.admitted) await l.sent(a.ticket, performance.now());
  return a;
}

/** Acquires until admitted, waiting exactly as long as each refusal says. */
async function acquireWhenAdmitted(l: RedisLimiter, tokens = 0): Promise<Acquisition> {
  for (let i = 0; i < 200; i++) {
    const a = await admit(l, tokens);
    if (a.admitted) return a;
    await sleep(Math.ceil(a.retryInMs) + 1);
  }
  throw new Error('not admitted');
}

function executor(s: RedisServer, onUnavailable: 'fail-closed' | 'fail-open', key: string): Executor {
  const ex = new Executor({
    concurrency: 4,
    limits: { requests: { limit: 20, windowMs: 200 }, store: { kind: 'redis', url: s.url, key, onUnavailable, commandTimeoutMs: 200 } },
    pool: { kind: 'inline' },
  });
  closers.push(() => ex.close({ drain: false }));
  return ex;
}

/** Counts settlements per call id, so a call settled twice (or never) shows. */
function settlements(ex: Executor): Map<string, number> {
  const seen = new Map<string, number>();
  ex.on('settled', (e) => seen.set(e.callId, (seen.get(e.callId) ?? 0) + 1));
  return seen;
}

/**
 * 'ok', or the error's code: `E_DEADLINE:store` for a deadline that passed while the store's
 * answer was pending, or after the call waited through part of the outage (the queue had yet
 * to catch up).
 */
function outcome(call: ServiceCall<unknown>): Promise<string> {
  return call.result().then(
    () => 'ok',
    (err: unknown) => {
      const e = err as { code?: string; context?: { waitingFor?: string; storeUnreachableMs?: number } };
      const store = e.context?.waitingFor === 'store' || (e.context?.storeUnreachableMs ?? 0) > 0;
      return e.code === 'E_DEADLINE' && store ? 'E_DEADLINE:store' : String(e.code);
    },
  );
}

test.serial('limiter, fail-closed: while Redis is down acquire() says unavailable, and admits again once it is back', async (t) => {
  if (!redisAvailable) return;
  const s = await server();
  const l = limiter(s, [{ limit: 100, windowMs: 1000 }], [], {});
  t.true((await admit(l, 0)).admitted);
  await s.kill();
  const down = await admit(l, 0);
  t.false(down.admitted);
  if (!down.admitted) {
    t.is(down.reason, 'unavailable');
    t.true(down.retryInMs > 0 && down.retryInMs <= 1100);
  }
  t.false((await admit(l, 0)).admitted);
  await s.restart();
  const back = await acquireWhenAdmitted(l);
  t.is((back as { ticket: RedisTicket }).ticket.store, 'redis');
});

test.serial('limiter, fail-open: while Redis is down a local limiter admits within the same windows; Redis again once it is back', async (t) => {
  if (!redisAvailable) return;
  const s = await server();
  const l = limiter(s, [{ limit: 5, windowMs: 60_000 }], [{ limit: 100, windowMs: 60_000 }], { onUnavailable: 'fail-open' });
  t.true((await admit(l, 10)).admitted);
  await s.kill();
  const local: Acquisition[] = [];
  for (let i = 0; i < 6; i++) local.push(await admit(l, 10));
  t.deepEqual(local.map((a) => a.admitted), [true, true, true, true, false, false], 'the local windows hold the configured limit, counting the admission made through Redis');
  const first = local[0]!;
  if (first.admitted) {
    t.is((first.ticket as { store: string }).store, 'local');
    await t.notThrowsAsync(Promise.resolve(l.reconcile(first.ticket, 5)));
  }
  await s.restart();
  // Back on Redis, the limiter first writes what it admitted meanwhile: the minute is full there too.
  const raw = new Redis(s.url);
  closers.push(async () => raw.disconnect());
  const requestsKey = 'callpool:{outage}:r:60000';
  const giveUp = performance.now() + 10_000;
  while ((await raw.zcard(requestsKey)) < 5 && performance.now() < giveUp) {
    t.false((await admit(l, 10)).admitted, 'the window stays full');
    await sleep(50);
  }
  t.is(await raw.zcard(requestsKey), 5, 'the admission made through Redis and the four local ones are written back');
  // The minute passes (its entries removed in Redis; the local windows stay full): the next admission is Redis's.
  await raw.del(requestsKey, 'callpool:{outage}:t:60000', 'callpool:{outage}:t:60000:amt', 'callpool:{outage}:t:60000:sum');
  const back = await acquireWhenAdmitted(l, 10);
  t.is((back as { ticket: RedisTicket }).ticket.store, 'redis');
});

test.serial('limiter: a Redis slower than commandTimeoutMs counts as unavailable (fail-closed) or falls back to the local limiter (fail-open)', async (t) => {
  if (!redisAvailable) return;
  const s = await server();
  const closed = limiter(s, [{ limit: 100, windowMs: 1000 }], [], { key: 'slow-closed' });
  const open = limiter(s, [{ limit: 100, windowMs: 1000 }], [], { key: 'slow-open', onUnavailable: 'fail-open' });
  t.true((await admit(closed, 0)).admitted);
  t.true((await admit(open, 0)).admitted);
  const raw = new Redis(s.url);
  closers.push(async () => raw.disconnect());
  await raw.client('PAUSE', 1500, 'ALL');
  const started = performance.now();
  const [c, o] = await Promise.all([admit(closed, 0), admit(open, 0)]);
  t.true(performance.now() - started < 1200, 'answered at the command timeout, not when Redis woke up');
  t.false(c.admitted);
  if (!c.admitted) t.is(c.reason, 'unavailable');
  t.true(o.admitted);
  if (o.admitted) t.is((o.ticket as { store: string }).store, 'local');
  await raw.client('UNPAUSE');
  const back = await acquireWhenAdmitted(closed);
  t.is((back as { ticket: RedisTicket }).ticket.store, 'redis');
});

test.serial('executor, fail-closed: calls wait through an outage, fail with E_LIMITER_UNAVAILABLE at their deadline, the rest complete after; each settles once', async (t) => {
  if (!redisAvailable) return;
  const s = await server();
  const ex = executor(s, 'fail-closed', 'closed');
  const seen = settlements(ex);
  const admittedAt: number[] = [];
  ex.on('admitted', () => admittedAt.push(performance.now()));

  const before = Array.from({ length: 10 }, (_, i) => ex.submit(echo, i));
  t.deepEqual(await Promise.all(before.map(outcome)), before.map(() => 'ok'));

  await s.kill();
  const downAt = performance.now();
  const short = Array.from({ length: 5 }, (_, i) => ex.submit(echo, i, CallContext.withTimeout('outage', 400)));
  const patient = Array.from({ length: 5 }, (_, i) => ex.submit(echo, i, CallContext.withTimeout('outage', 20_000)));
  t.deepEqual(await Promise.all(short.map(outcome)), short.map(() => 'E_LIMITER_UNAVAILABLE'));
  t.is(patient.filter((c) => c.settled).length, 0, 'calls with time left keep waiting');
  const upAt = performance.now();
  await s.restart();
  t.deepEqual(await Promise.all(patient.map(outcome)), patient.map(() => 'ok'));

  t.deepEqual(admittedAt.filter((a) => a > downAt && a < upAt), [], 'nothing admitted while Redis was down');
  const all = [...before, ...short, ...patient];
  t.is(seen.size, all.length);
  t.true([...seen.values()].every((n) => n === 1), 'every call settled exactly once');
});

test.serial('executor, fail-open: calls keep completing through an outage under the local limiter, then go back to Redis', async (t) => {
  if (!redisAvailable) return;
  const s = await server();
  const ex = executor(s, 'fail-open', 'open');
  const seen = settlements(ex);
  const raw = new Redis(s.url, { lazyConnect: true, retryStrategy: () => 50 });
  raw.on('error', () => {});
  closers.push(async () => raw.disconnect());

  const before = Array.from({ length: 10 }, (_, i) => ex.submit(echo, i));
  t.deepEqual(await Promise.all(before.map(outcome)), before.map(() => 'ok'));

  await s.kill();
  const during = Array.from({ length: 30 }, (_, i) => ex.submit(echo, i, CallContext.withTimeout('outage', 10_000)));
  t.deepEqual(await Promise.all(during.map(outcome)), during.map(() => 'ok'));

  await s.restart();
  await raw.connect();
  t.is(await raw.zcard('callpool:{open}:r:200'), 0, 'the restarted Redis starts empty');
  // The limiter reconnects on its own schedule (within about a second); until then it stays local.
  const after: ServiceCall<unknown>[] = [];
  const giveUp = performance.now() + 5000;
  while ((await raw.zcard('callpool:{open}:r:200')) === 0 && performance.now() < giveUp) {
    const batch = Array.from({ length: 5 }, (_, i) => ex.submit(echo, i, CallContext.withTimeout('outage', 10_000)));
    after.push(...batch);
    t.deepEqual(await Promise.all(batch.map(outcome)), batch.map(() => 'ok'));
  }
  t.true((await raw.zcard('callpool:{open}:r:200')) > 0, 'admissions are recorded in Redis again');

  const all = [...before, ...during, ...after];
  t.is(seen.size, all.length);
  t.true([...seen.values()].every((n) => n === 1), 'every call settled exactly once');
});

/** Keeps `width` calls outstanding until stopped; each has `deadlineMs` to complete. */
function steadyLoad(ex: Executor, width: number, deadlineMs: number) {
  const outcomes: Promise<string>[] = [];
  const completedAt: number[] = [];
  let running = true;
  const submitOne = (): void => {
    if (!running) return;
    const call = ex.submit(echo, 0, CallContext.withTimeout('load', deadlineMs));
    outcomes.push(
      outcome(call).then((o) => {
        if (o === 'ok') completedAt.push(performance.now());
        submitOne();
        return o;
      }),
    );
  };
  for (let i = 0; i < width; i++) submitOne();
  return {
    completedAt,
    /** Resolves once `n` more calls have completed. */
    async completions(n: number): Promise<void> {
      const target = completedAt.length + n;
      while (completedAt.length < target) await Promise.race(outcomes.slice(-width));
    },
    async stop(): Promise<string[]> {
      running = false;
      // Settled calls stop re-submitting, so the list stops growing once everything settled.
      let seen = -1;
      while (seen !== outcomes.length) {
        seen = outcomes.length;
        await Promise.all(outcomes);
      }
      return Promise.all(outcomes);
    },
  };
}

test.serial('executor under steady load, fail-closed: Redis killed mid-run and restarted; nothing admitted while down, every call settles once', async (t) => {
  if (!redisAvailable) return;
  const s = await server();
  const ex = executor(s, 'fail-closed', 'midrun-closed');
  const seen = settlements(ex);
  const admittedAt: number[] = [];
  ex.on('admitted', () => admittedAt.push(performance.now()));
  const load = steadyLoad(ex, 8, 300);
  await load.completions(40);
  await s.kill();
  const downAt = performance.now();
  await sleep(600);
  const upAt = performance.now();
  await s.restart();
  await load.completions(40);
  const outcomes = await load.stop();

  t.deepEqual(admittedAt.filter((a) => a > downAt && a < upAt), [], 'nothing admitted while Redis was down');
  // A call whose deadline passed while Redis's answer was still pending (before the limiter's
  // command timeout declared it unavailable), or just after Redis came back, says so.
  const kinds = new Set(outcomes);
  t.true([...kinds].every((o) => ['E_LIMITER_UNAVAILABLE', 'E_DEADLINE:store', 'ok'].includes(o)), `calls completed, or waited out their deadline during the outage: ${[...kinds].join(', ')}`);
  t.true(kinds.has('ok') && kinds.has('E_LIMITER_UNAVAILABLE'));
  t.true(load.completedAt.some((c) => c > upAt), 'completions resumed after the restart');
  t.is(seen.size, outcomes.length);
  t.true([...seen.values()].every((n) => n === 1), 'every call settled exactly once');
});

test.serial('executor under steady load, fail-open: Redis killed mid-run and restarted; calls keep completing throughout, every call settles once', async (t) => {
  if (!redisAvailable) return;
  const s = await server();
  const ex = executor(s, 'fail-open', 'midrun-open');
  const seen = settlements(ex);
  const load = steadyLoad(ex, 8, 5000);
  await load.completions(40);
  await s.kill();
  const downAt = performance.now();
  await load.completions(40);
  const upAt = performance.now();
  await s.restart();
  await load.completions(40);
  const outcomes = await load.stop();

  t.true(load.completedAt.filter((c) => c > downAt && c < upAt).length >= 40, 'the local limiter kept admitting while Redis was down');
  t.deepEqual([...new Set(outcomes)], ['ok']);
  t.is(seen.size, outcomes.length);
  t.true([...seen.values()].every((n) => n === 1), 'every call settled exactly once');
});
