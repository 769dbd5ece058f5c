import { getEventListeners } from 'node:events';
import test from 'ava';
import {
  CallContext,
  CancelledError,
  ClosedError,
  DeadlineExceededError,
  Executor,
  QueueFullError,
  ValidationError,
  defineService,
  retry,
  type ExecutorEventMap,
  type Middleware,
  type Pool,
  type Service,
} from '../../src/index.js';
import { installClock, settle, type FakeClock } from '../helpers/fake-clock.js';
import { ScriptedLimiter, notYet, yes } from '../helpers/scripted-limiter.js';
import { echo, flaky, gate } from '../helpers/services.js';

// The executor's public surface, each promise checked so that it fails when broken: warm-up,
// close, refusals, events and their figures, the one settle path.

/** The inline pool, recording what it is asked to make ready (and able to have no ready()). */
function recordingPool(withReady = true): { pool: Pool; readied: string[][] } {
  const readied: string[][] = [];
  const run = (task: { service: Service; request: unknown }) => (task.service.handler as { call: (r: unknown) => unknown }).call(task.request);
  const pool: Pool = {
    kind: 'recording',
    inProcess: true,
    run,
    stream: () => {
      throw new Error('no streams here');
    },
    close: () => Promise.resolve(),
    ...(withReady ? { ready: (services: readonly Service[]) => (readied.push(services.map((s) => s.name)), Promise.resolve()) } : {}),
  };
  return { pool, readied };
}

const named = (name: string) => defineService<unknown, unknown>({ name, handler: { call: (r: unknown) => r } });

test('ready() makes ready the services given and every one seen so far; a service is warmed on first sight, once', async (t) => {
  const { pool, readied } = recordingPool();
  const ex = new Executor({ pool });
  t.teardown(() => ex.close());
  await ex.ready();
  t.deepEqual(readied, [[]]);
  const a = named('a');
  const b = named('b');
  await ex.ready([a]);
  t.deepEqual(readied.at(-1), ['a']);
  await ex.call(b, 1);
  await ex.call(b, 2);
  t.deepEqual(readied, [[], ['a'], ['b']], 'b warmed when first seen, not again');
  await ex.ready();
  t.deepEqual(readied.at(-1), ['a', 'b']);
  await ex.call(a, 3);
  t.is(readied.length, 4, 'a was already warm');
});

test('ready() on a pool with nothing to make ready resolves', async (t) => {
  const ex = new Executor({ pool: recordingPool(false).pool });
  t.teardown(() => ex.close());
  await t.notThrowsAsync(ex.ready([named('a')]));
  t.is(await ex.call(named('a'), 5), 5);
});

test('close(): closed at once; a second call returns the same promise; bad options refuse before anything closes', async (t) => {
  const closedMw: string[] = [];
  const mw: Middleware = { name: 'm', call: (inv, next) => next(inv), close: () => void closedMw.push('m') };
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: [mw] });
  t.false(ex.closed);
  await t.throwsAsync(ex.close({ timeoutMs: -1 }), { instanceOf: ValidationError });
  t.false(ex.closed, 'a refused close() closes nothing');
  t.is(await ex.call(echo, 1), 1);
  const first = ex.close();
  t.true(ex.closed);
  t.is(ex.close(), first);
  t.is(ex.close({ timeoutMs: -1 }), first, 'once closing, the options are not looked at again');
  await first;
  t.deepEqual(closedMw, ['m'], "each middleware's close() ran once");
});

test('a call refused after close() is ClosedError, counted as such; close({ drain: false }) cancels queued calls with "executor closed"', async (t) => {
  const g = gate();
  const ex = new Executor({ pool: { kind: 'inline' }, concurrency: 1 });
  ex.submit(g.service, { id: 1 });
  const queued = ex.submit(echo, 2);
  const closing = ex.close({ drain: false });
  const err = await t.throwsAsync(queued.result(), { instanceOf: CancelledError });
  t.regex(err!.message, /executor closed/);
  await closing;
  const refused = t.throws(() => ex.submit(echo, 3), { instanceOf: ClosedError });
  t.regex(refused!.message, /executor is closed; no new calls are accepted/);
  t.is(ex.stats().rejected.closed, 1);
});

test('a call without a context gets the branch "default"', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  const c = ex.submit(echo, 1);
  t.is(c.ctx.branchId, 'default');
  await c.result();
});

test('queue full: the queueFull event names the service, the capacity and the context; the error carries the service', async (t) => {
  const g = gate();
  const ex = new Executor({ pool: { kind: 'inline' }, concurrency: 1, queueCapacity: 1 });
  const events: ExecutorEventMap['queueFull'][] = [];
  ex.on('queueFull', (e) => events.push(e));
  ex.submit(g.service, { id: 1 });
  ex.submit(g.service, { id: 2 });
  const ctx = CallContext.new('overflow');
  const err = t.throws(() => ex.submit(g.service, { id: 3 }, ctx), { instanceOf: QueueFullError });
  t.deepEqual(err!.context, { service: 'gate' });
  t.deepEqual(events, [{ service: 'gate', capacity: 1, ctx }]);
  g.resolve(1);
  await settle();
  g.resolve(2);
  await ex.close();
});

test('a stream the consumer leaves early is CANCELLED; one whose handler fails is FAILED with its error', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  const svc = defineService<{ fail: boolean }, number>({
    name: 'chunks',
    handler: {
      async *stream({ fail }) {
        yield 1;
        yield 2;
        if (fail) throw Object.assign(new Error('broke'), { code: 'E_BROKE' });
        yield 3;
      },
    },
  });
  const left = ex.stream(svc, { fail: false });
  for await (const c of left) if (c === 1) break;
  await settle();
  t.is(left.call.status, 'CANCELLED');
  const failing = ex.stream(svc, { fail: true });
  const got: unknown[] = [];
  await t.throwsAsync(async () => {
    for await (const c of failing) got.push(c);
  }, { message: 'broke' });
  t.deepEqual(got, [1, 2]);
  t.is(failing.call.status, 'FAILED');
  t.is((failing.call.error as Error).message, 'broke');
});

test("a settled call leaves no listener on the caller's signal", async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  const ac = new AbortController();
  const g = gate();
  const c = ex.submit(g.service, { id: 1 }, undefined, { signal: ac.signal });
  await settle();
  t.is(getEventListeners(ac.signal, 'abort').length, 1);
  g.resolve(1);
  await c.result();
  t.is(getEventListeners(ac.signal, 'abort').length, 0);
});

test('a call refused by middleware before it reaches the pool still places the slot it was admitted with', async (t) => {
  const limiter = new ScriptedLimiter((n) => yes(`t${n}`));
  const deny: Middleware = { name: 'deny', call: () => Promise.reject(Object.assign(new Error('denied'), { code: 'E_POLICY' })) };
  const ex = new Executor({ pool: { kind: 'inline' }, limits: limiter, middleware: [deny] });
  t.teardown(() => ex.close());
  await t.throwsAsync(ex.call(echo, 1), { message: 'denied' });
  t.deepEqual(limiter.sentLog.map(([ticket]) => ticket), ['t1']);
});

test('onIdle() resolves when the last running call settles, not before', async (t) => {
  const g = gate();
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  ex.submit(g.service, { id: 1 });
  ex.submit(g.service, { id: 2 });
  let idle = false;
  const waiting = ex.onIdle().then(() => (idle = true));
  g.resolve(1);
  await settle();
  t.false(idle);
  g.resolve(2);
  await waiting;
  t.true(idle);
});

test.serial('onIdle() waits for calls queued for rate capacity while nothing runs', async (t) => {
  const fc = installClock();
  try {
    const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 1, windowMs: 1000 } } });
    ex.submit(echo, 1);
    const second = ex.submit(echo, 2);
    await settle();
    t.is(ex.running, 0);
    t.is(ex.queued, 1);
    let idle = false;
    const waiting = ex.onIdle().then(() => (idle = true));
    await settle();
    t.false(idle, 'a call still waits in the queue');
    fc.tick(1000);
    await waiting;
    t.is(second.status, 'COMPLETED');
    await ex.close();
  } finally {
    fc.uninstall();
  }
});

test('a retry cancelled while it waits for rate capacity: the middleware above it learns the outcome', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 2 ? notYet(60_000) : yes(`t${n}`)));
  const outcomes: string[] = [];
  const outer: Middleware = {
    name: 'outer',
    call: (inv, next) =>
      next(inv).then(
        (v) => (outcomes.push('resolved'), v),
        (e: unknown) => {
          outcomes.push(`rejected ${(e as { code?: string }).code}`);
          throw e;
        },
      ),
  };
  const f = flaky(Infinity);
  const ex = new Executor({ pool: { kind: 'inline' }, limits: limiter, middleware: [outer, retry({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 })] });
  t.teardown(() => ex.close({ drain: false }));
  const ac = new AbortController();
  const c = ex.submit(f.service, {}, undefined, { signal: ac.signal });
  while (limiter.asks.length < 2) await new Promise((r) => setTimeout(r, 1));
  ac.abort();
  await t.throwsAsync(c.result(), { code: 'E_CANCELLED' });
  await settle();
  t.deepEqual(outcomes, ['rejected E_CANCELLED']);
  t.is(f.attempts(), 1, 'the waiting retry never ran');
});

test('a call cancelled while its retry sleeps runs no further attempt', async (t) => {
  const f = flaky(Infinity);
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: [retry({ maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 200 })] });
  t.teardown(() => ex.close());
  const ac = new AbortController();
  const c = ex.submit(f.service, {}, undefined, { signal: ac.signal });
  while (f.attempts() < 1) await new Promise((r) => setTimeout(r, 1));
  ac.abort();
  await t.throwsAsync(c.result(), { code: 'E_CANCELLED' });
  await new Promise((r) => setTimeout(r, 400));
  t.is(f.attempts(), 1);
});

// Figures on the fake clock: exact, with no milliseconds of luck.
let clock: FakeClock | undefined;
test.afterEach.always(() => {
  clock?.uninstall();
  clock = undefined;
});

test.serial('a deadline that has passed at the very instant of submit fails the call at once, inside submit()', async (t) => {
  clock = installClock();
  const ex = new Executor({ pool: { kind: 'inline' } });
  const ctx = CallContext.withTimeout('d', 10);
  clock.tick(10);
  const c = ex.submit(echo, 1, ctx);
  t.is(c.status, 'FAILED');
  t.like(c.error, { phase: 'queued' });
  t.true(c.error instanceof DeadlineExceededError);
  await ex.close();
});

test.serial('admitted and settled events and the queue-wait stats carry exact figures', async (t) => {
  clock = installClock();
  const limiter = new ScriptedLimiter((n) => (n === 2 ? notYet(30) : yes(`t${n}`)));
  // No send reports: one would let the waiting head in at once (see admission.test.ts).
  limiter.holdsTickets = false;
  const ex = new Executor({ pool: { kind: 'inline' }, limits: limiter, concurrency: 1 });
  const admitted: ExecutorEventMap['admitted'][] = [];
  const settled: ExecutorEventMap['settled'][] = [];
  ex.on('admitted', (e) => admitted.push(e));
  ex.on('settled', (e) => settled.push(e));
  const g = gate();
  const first = ex.submit(g.service, { id: 1 });
  const second = ex.submit(echo, 2);
  await settle();
  clock.tick(20);
  g.resolve(1);
  await settle();
  clock.tick(30);
  await settle();
  t.is(second.status, 'COMPLETED');
  t.deepEqual(admitted.map((e) => [e.callId, e.attempt, e.queueWaitMs]), [
    [first.id, 1, 0],
    [second.id, 1, 50],
  ]);
  const failing = ex.submit(defineService({ name: 'bad', handler: { call: () => Promise.reject(Object.assign(new Error('no'), { code: 'E_NO' })) } }), 3);
  await settle();
  t.is(failing.status, 'FAILED');
  t.deepEqual(settled.map((e) => [e.callId, e.status, e.runMs, e.error === undefined ? undefined : (e.error as Error).message]), [
    [first.id, 'COMPLETED', 20, undefined],
    [second.id, 'COMPLETED', 0, undefined],
    [failing.id, 'FAILED', 0, 'no'],
  ]);
  t.false('error' in settled[0]!);
  t.is(ex.stats().queueWait.max, 50);
  await ex.close();
});

test.serial("a retry's admitted event counts its wait from when the retry asked, not from the call's queueing", async (t) => {
  clock = installClock();
  const limiter = new ScriptedLimiter((n) => (n === 2 ? notYet(50) : yes(`t${n}`)));
  const ex = new Executor({ pool: { kind: 'inline' }, limits: limiter, middleware: [retry({ maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 5 })] });
  const admitted: ExecutorEventMap['admitted'][] = [];
  ex.on('admitted', (e) => admitted.push(e));
  const c = ex.submit(flaky(1).service, {});
  await settle();
  clock.tick(5);
  await settle();
  t.is(limiter.asks.length, 2, 'the retry asked after its backoff');
  clock.tick(50);
  await settle();
  t.is(await c.result(), 2);
  t.deepEqual(admitted.map((e) => e.attempt), [1, 2]);
  t.true(Math.abs(admitted[1]!.queueWaitMs - 50) < 1e-6, `${admitted[1]!.queueWaitMs} ms`);
  await ex.close();
});

test('middleware that tries again after the call settled gets the call\'s error, and no attempt runs', async (t) => {
  let runs = 0;
  const failing = defineService<unknown, number>({
    name: 'failing',
    handler: {
      call: () => {
        runs++;
        throw Object.assign(new Error('no'), { code: 'E_NO' });
      },
    },
  });
  let late: unknown;
  let retried!: () => void;
  const done = new Promise<void>((r) => (retried = r));
  // Ignores cancellation: waits, then asks for another attempt anyway.
  const stubborn: Middleware = {
    name: 'stubborn',
    call: async (inv, next) => {
      try {
        return await next(inv);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
        try {
          return await next({ ...inv, attempt: inv.attempt + 1 });
        } catch (err) {
          late = err;
          throw err;
        } finally {
          retried();
        }
      }
    },
  };
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: [stubborn] });
  t.teardown(() => ex.close());
  const ac = new AbortController();
  const c = ex.submit(failing, {}, undefined, { signal: ac.signal });
  while (runs < 1) await new Promise((r) => setTimeout(r, 1));
  ac.abort();
  await t.throwsAsync(c.result(), { code: 'E_CANCELLED' });
  // Bounded: an attempt let through after the settle would wait for admission forever.
  await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
  t.is(runs, 1);
  t.is(late, c.error);
});
