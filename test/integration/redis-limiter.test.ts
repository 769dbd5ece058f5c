import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { RateWindow } from '../../src/core/schemas.js';
import { RedisLimiter, type RedisLimiterOptions, type RedisTicket } from '../../src/limits/redis-limiter.js';
import type { Acquisition } from '../../src/limits/types.js';
import { maxInWindow } from '../helpers/services.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { redisAvailable, redisTest } from '../helpers/redis-test.js';

const test = redisTest();
let server: RedisServer | undefined;
const limiters: RedisLimiter[] = [];
let keySeq = 0;

test.before(async () => {
  if (redisAvailable) server = await startRedis();
});

test.after.always(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  await server?.stop();
});

function limiter(requests: RateWindow[], tokens: RateWindow[], key: string, options: Partial<RedisLimiterOptions> = {}): RedisLimiter {
  const l = new RedisLimiter(requests, tokens, { url: server!.url, key, ...options });
  limiters.push(l);
  return l;
}

const uniqueKey = (name: string) => `${name}-${++keySeq}`;

function admittedAt(a: Acquisition): number {
  if (!a.admitted) throw new Error(`expected an admission, got a refusal (${a.reason}, ${a.retryInMs} ms)`);
  return (a.ticket as RedisTicket).at;
}


/** Acquires once; an admitted request is reported sent at once, as the executor does when it dispatches. */
async function admit(l: RedisLimiter, tokens: number): Promise<Acquisition> {
  const a = await l.acquire(tokens);
  if (a.admitted) await l.sent(a.ticket, performance.now());
  return a;
}

/** Acquires until admitted, waiting exactly as long as each refusal says. */
async function acquireWhenAdmitted(l: RedisLimiter, tokens = 0, attempts = 200): Promise<Acquisition> {
  for (let i = 0; i < attempts; i++) {
    const a = await admit(l, tokens);
    if (a.admitted) return a;
    await sleep(Math.ceil(a.retryInMs) + 1);
  }
  throw new Error('not admitted');
}

/** Several acquirers per limiter, each admitting as fast as the limiter lets it, until `untilMs`. */
async function hammer(ls: RedisLimiter[], perLimiter: number, durationMs: number, tokens = 0): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + durationMs;
  const loop = async (l: RedisLimiter) => {
    while (performance.now() < end) {
      const a = await admit(l, tokens);
      if (a.admitted) times.push((a.ticket as RedisTicket).at);
      else await sleep(Math.min(Math.ceil(a.retryInMs), Math.max(1, end - performance.now())));
    }
  };
  await Promise.all(ls.flatMap((l) => Array.from({ length: perLimiter }, () => loop(l))));
  return times.sort((a, b) => a - b);
}

test('acquire() is atomic: 300 concurrent acquirers on 3 connections get exactly the limit', async (t) => {
  const key = uniqueKey('atomic');
  const ls = [0, 1, 2].map(() => limiter([{ limit: 50, windowMs: 60_000 }], [], key));
  const results = await Promise.all(ls.flatMap((l) => Array.from({ length: 100 }, () => l.acquire(0))));
  const admitted = results.filter((r) => r.admitted);
  t.is(admitted.length, 50);
  for (const r of results) {
    if (!r.admitted) {
      t.is(r.reason, 'requests');
      t.true(r.retryInMs > 50_000 && r.retryInMs <= 60_000 + 5);
    }
  }
  t.is(new Set(admitted.map((r) => (r.ticket as RedisTicket).seq)).size, 50);
});

test.serial('no rolling window over the limit across 3 limiters racing for 1.5 s, and the limit is used', async (t) => {
  const key = uniqueKey('rolling');
  const ls = [0, 1, 2].map(() => limiter([{ limit: 20, windowMs: 250 }], [], key));
  const times = await hammer(ls, 4, 1500);
  t.true(maxInWindow(times, 250) <= 20, `max in a rolling 250 ms: ${maxInWindow(times, 250)}`);
  // 6 full windows fit in 1.5 s: 120 admissions at most; waiting exactly keeps us close to it.
  t.true(times.length >= 96, `admitted ${times.length} of at most 120-140`);
});

test('a refusal names the exact time until the oldest entry leaves the window', async (t) => {
  const l = limiter([{ limit: 3, windowMs: 600 }], [], uniqueKey('exact'));
  const t0 = performance.now();
  const first = admittedAt(await admit(l, 0));
  admittedAt(await admit(l, 0));
  admittedAt(await admit(l, 0));
  const refused = await admit(l, 0);
  // The window less the time the four round trips took, however long a loaded machine made them.
  const elapsed = performance.now() - t0;
  t.false(refused.admitted);
  if (refused.admitted) return;
  t.is(refused.reason, 'requests');
  t.true(refused.retryInMs > 0 && refused.retryInMs >= 600 - elapsed - 5 && refused.retryInMs <= 600 + 5, `retryInMs ${refused.retryInMs} after ${elapsed.toFixed(1)} ms`);
  await sleep(Math.ceil(refused.retryInMs) + 1);
  const next = admittedAt(await admit(l, 0));
  t.true(next - first >= 600, `admitted ${next - first} ms after the first`);
});

test.serial('several windows at once: each one holds', async (t) => {
  const key = uniqueKey('multi');
  const windows = [{ limit: 4, windowMs: 100 }, { limit: 10, windowMs: 600 }];
  const ls = [0, 1].map(() => limiter(windows, [], key));
  // 1.5 s: the third 600 ms window opens at about 1.2 s, with 300 ms to spare for a loaded
  // machine's late timers (1.3 s once admitted 19: the third window was missed).
  const times = await hammer(ls, 3, 1500);
  t.true(maxInWindow(times, 100) <= 4, `max in 100 ms: ${maxInWindow(times, 100)}`);
  t.true(maxInWindow(times, 600) <= 10, `max in 600 ms: ${maxInWindow(times, 600)}`);
  t.true(times.length >= 20, `admitted ${times.length}`);
});

test('token windows: estimates are charged, and reconcile() refunds or charges the actual usage', async (t) => {
  const key = uniqueKey('tokens');
  const l = limiter([], [{ limit: 100, windowMs: 60_000 }], key);
  const other = limiter([], [{ limit: 100, windowMs: 60_000 }], key);
  const a = await admit(l, 60);
  t.true(a.admitted);
  const refused = await admit(other, 60);
  t.false(refused.admitted);
  if (!refused.admitted) t.is(refused.reason, 'tokens');
  if (!a.admitted) return;
  await l.reconcile(a.ticket, 10);
  const b = await admit(other, 60);
  t.true(b.admitted, 'the refund made room');
  if (!b.admitted) return;
  await other.reconcile(b.ticket, 90);
  t.false((await admit(l, 1)).admitted, 'the extra charge took the room back: 10 + 90 = 100');
  await other.reconcile(b.ticket, 89);
  t.true((await admit(l, 1)).admitted);
});

test.serial('token windows: never more tokens than the limit in any rolling window', async (t) => {
  const key = uniqueKey('token-rolling');
  const ls = [0, 1].map(() => limiter([], [{ limit: 100, windowMs: 200 }], key));
  const times = await hammer(ls, 3, 1000, 30);
  t.true(maxInWindow(times, 200, times.map(() => 30)) <= 100);
  t.true(times.length >= 12, `admitted ${times.length}`);
});

test('check() refuses an estimate that can never fit a token window', (t) => {
  const l = limiter([], [{ limit: 100, windowMs: 1000 }], uniqueKey('check'));
  const err = t.throws(() => l.check(101));
  t.is((err as { code?: string }).code, 'E_RATE_LIMITED');
  t.notThrows(() => l.check(100));
});

test('pause() is shared: another process sees it through Redis', async (t) => {
  const key = uniqueKey('pause');
  const a = limiter([{ limit: 100, windowMs: 1000 }], [], key);
  const b = limiter([{ limit: 100, windowMs: 1000 }], [], key);
  const t0 = performance.now();
  await a.pauseShared(400);
  const r = await admit(b, 0);
  // What is left of the pause, less the time these two round trips took (on a loaded machine,
  // over 200 ms was seen), never more than the pause itself.
  const elapsed = performance.now() - t0;
  t.false(r.admitted);
  if (r.admitted) return;
  t.is(r.reason, 'paused');
  t.true(r.retryInMs > 0 && r.retryInMs >= 400 - elapsed - 5 && r.retryInMs <= 405, `retryInMs ${r.retryInMs} after ${elapsed.toFixed(1)} ms`);
  await sleep(Math.ceil(r.retryInMs) + 1);
  t.true((await admit(b, 0)).admitted);
});

test.serial('holds(): an admission waits for its send report until the first one; later reports change nothing', async (t) => {
  const l = limiter([{ limit: 1, windowMs: 600 }], [], uniqueKey('holds'));
  const a = await l.acquire(0);
  if (!a.admitted) return t.fail('the first admission is refused');
  t.true(l.holds(a.ticket));
  t.false(l.holds('x'));
  await l.sent(a.ticket, performance.now());
  t.false(l.holds(a.ticket), 'placed: nothing more to report');
  const refused = await l.acquire(0);
  if (refused.admitted) return t.fail('admitted past the limit');
  await sleep(200);
  await l.sent(a.ticket, performance.now());
  const again = await l.acquire(0);
  if (again.admitted) return t.fail('admitted past the limit');
  t.true(again.retryInMs <= refused.retryInMs - 150, `a second report moved the slot: ${again.retryInMs} then ${refused.retryInMs} ms`);
});

test('keys expire with their window: nothing is left behind in Redis', async (t) => {
  const key = uniqueKey('expire');
  // Windows long enough that a loaded machine (test files side by side on two cores) reads the
  // keys before they expire: with 150 ms they were once gone before the first read.
  const l = limiter([{ limit: 5, windowMs: 600 }], [{ limit: 50, windowMs: 800 }], key);
  // Connected before the admission: a connection made after it can take long on a loaded machine.
  const raw = new Redis(server!.url);
  t.teardown(() => raw.disconnect());
  await raw.ping();
  await acquireWhenAdmitted(l, 5);
  t.true((await raw.keys(`callpool:{${key}}:*`)).length >= 4);
  await sleep(1600);
  t.deepEqual(await raw.keys(`callpool:{${key}}:[rt]*`), []);
});

test('a held admission is renewed while its process lives (every key of its windows), and stops counting a lease and a window after it stops', async (t) => {
  const key = uniqueKey('lease');
  const requests = [{ limit: 1, windowMs: 200 }];
  const tokens = [{ limit: 10, windowMs: 250 }];
  // A lease of 1 s, renewed every third of it: a renewal that waits out a whole lease behind a
  // busy event loop would need a stall of over 600 ms (a 300 ms lease lapsed in CI under load).
  const LEASE = 1000;
  const holder = limiter(requests, tokens, key, { pendingLeaseMs: LEASE });
  const other = limiter(requests, tokens, key, { pendingLeaseMs: LEASE });
  const raw = new Redis(server!.url);
  t.teardown(() => raw.disconnect());
  // Never reported sent: held, its score a lease ahead of Redis's clock.
  const held = await holder.acquire(5);
  if (!held.admitted) return t.fail('the first admission is refused');
  const { seq, at } = held.ticket as RedisTicket;
  const base = `callpool:{${key}}`;
  await sleep(3 * LEASE);
  // Unrenewed, the lease ends at 1000 ms and every key expires by 1250 ms (lease + window).
  t.false((await other.acquire(0)).admitted, 'still held after three leases');
  t.true(Number(await raw.zscore(`${base}:r:200`, seq)) > at + 3 * LEASE - 100, 'the requests entry moved a lease ahead of now');
  t.true(Number(await raw.zscore(`${base}:t:250`, seq)) > at + 3 * LEASE - 100, 'the tokens entry too');
  t.is(await raw.exists(`${base}:t:250:amt`, `${base}:t:250:sum`), 2, "the tokens window's amounts and sum live on");
  await holder.close();
  const stopped = performance.now();
  await acquireWhenAdmitted(other, 0);
  const freedAfter = performance.now() - stopped;
  t.true(freedAfter <= LEASE + 250 + 200, `freed ${freedAfter.toFixed(0)} ms after the renewals stopped`);
});

test.serial('the URL is checked when the limiter is made: E_CONFIG naming /url and the rule', (t) => {
  const err = t.throws(() => new RedisLimiter([{ limit: 1, windowMs: 1000 }], [], { url: 'not a url' })) as unknown as { code: string; message: string; issues: unknown[] };
  t.is(err.code, 'E_CONFIG');
  t.regex(err.message, /^invalid redis limiter: /);
  t.deepEqual(err.issues, [{ path: '/url', rule: 'format', message: 'must be a redis:// or rediss:// URL' }]);
});

test.serial('pause(ms): this process refuses at once, naming the pause and the time left; 0, negative and NaN pause nothing', async (t) => {
  const key = uniqueKey('local-pause');
  const l = limiter([{ limit: 100, windowMs: 1000 }], [], key);
  const other = limiter([{ limit: 100, windowMs: 1000 }], [], key);
  t.true((await admit(l, 0)).admitted);
  t.true(l.connected);
  for (const ms of [0, -5, Number.NaN]) {
    l.pause(ms);
    await t.notThrowsAsync(l.pauseShared(ms));
  }
  t.true((await admit(l, 0)).admitted, 'nothing paused');
  t.true((await admit(other, 0)).admitted, 'nothing paused through Redis');
  l.pause(400);
  const r = await l.acquire(0);
  if (r.admitted) return t.fail('admitted while paused');
  t.is(r.reason, 'paused');
  t.true(r.retryInMs > 300 && r.retryInMs <= 400 + 25, `retryInMs ${r.retryInMs}`);
  // The pause reaches Redis too: the other process waits as well.
  let seen: Acquisition = await admit(other, 0);
  for (let i = 0; i < 20 && seen.admitted; i++) {
    await sleep(5);
    seen = await admit(other, 0);
  }
  t.like(seen, { admitted: false, reason: 'paused' });
});

test.serial('an unreachable Redis: not connected, acquire() says unavailable (fail-closed), pauseShared() rejects saying the pause holds here only', async (t) => {
  const l = new RedisLimiter([{ limit: 5, windowMs: 1000 }], [], { url: 'redis://127.0.0.1:1', key: uniqueKey('down'), commandTimeoutMs: 200 });
  t.teardown(() => l.close());
  const a = await l.acquire(0);
  t.like(a, { admitted: false, reason: 'unavailable' });
  t.false(l.connected);
  const err = await t.throwsAsync(l.pauseShared(100));
  t.is((err as { code?: string }).code, 'E_LIMITER_UNAVAILABLE');
  t.regex(err!.message, /unreachable; the pause holds in this process only/);
  // The local pause still holds.
  l.pause(300);
  t.like(await l.acquire(0), { admitted: false, reason: 'paused' });
});

test.serial('widen(ms) adds the guard band to every window, in Redis too; NaN or a negative band is none', async (t) => {
  const wide = limiter([{ limit: 1, windowMs: 300 }], [], uniqueKey('widen'));
  wide.widen(300);
  admittedAt(await admit(wide, 0));
  const r = await admit(wide, 0);
  if (r.admitted) return t.fail('admitted inside the widened window');
  t.true(r.retryInMs > 450 && r.retryInMs <= 605, `retryInMs ${r.retryInMs}`);
  // Without a band (NaN or negative asked for), the window is its own length.
  for (const band of [Number.NaN, -50]) {
    const plain = limiter([{ limit: 1, windowMs: 300 }], [], uniqueKey('widen-none'));
    plain.widen(band);
    admittedAt(await admit(plain, 0));
    const p = await admit(plain, 0);
    if (p.admitted) return t.fail('admitted past the limit');
    t.true(p.retryInMs > 150 && p.retryInMs <= 305, `band ${band}: retryInMs ${p.retryInMs}`);
  }
});

test.serial('reconcile() ignores what it cannot use: a foreign ticket, NaN, negative or infinite usage, a limiter with no token window', async (t) => {
  const l = limiter([], [{ limit: 100, windowMs: 60_000 }], uniqueKey('reconcile-bad'));
  const a = await admit(l, 60);
  if (!a.admitted) return t.fail('the first admission is refused');
  await t.notThrowsAsync(l.reconcile('not a ticket', 5));
  for (const used of [Number.NaN, -50, Number.POSITIVE_INFINITY]) await l.reconcile(a.ticket, used);
  // Still 60 charged: 50 more do not fit, and the refusal names the tokens, not an outage.
  t.like(await l.acquire(50), { admitted: false, reason: 'tokens' });
  await l.reconcile(a.ticket, 10);
  t.true((await admit(l, 50)).admitted, 'a real usage refunds the difference');
  const requestsOnly = limiter([{ limit: 1, windowMs: 60_000 }], [], uniqueKey('reconcile-none'));
  const b = await admit(requestsOnly, 0);
  if (!b.admitted) return t.fail('the first admission is refused');
  await requestsOnly.reconcile(b.ticket, 10);
  t.like(await requestsOnly.acquire(0), { admitted: false, reason: 'requests' }, 'no token window to reconcile: Redis was not asked, nothing failed');
});
