import test from 'ava';
import { CallContext, DeadlineExceededError, Executor, RateLimitError, defineService, withMeta, type Middleware } from '../../src/index.js';
import { fakeClockEach, settle, withClockReads } from '../helpers/fake-clock.js';
import { echo, gate, sleeper } from '../helpers/services.js';

// Time is the subject here: the clock is fake (see helpers/fake-clock.ts), so each instant is
// checked exactly, with no milliseconds of luck either way. Public API only.

const fake = fakeClockEach(test);
const { advance } = fake;


const passThrough: Middleware = { name: 'pass', call: (inv, next) => next(inv), stream: (inv, next) => next(inv) };

fake.serial('rate capacity: the waiting head is admitted at the exact instant the oldest admission leaves the window', async (t) => {
  // A window off any round grid: a polling loop (every 1, 5 or 10 ms) cannot land on it.
  const windowMs = 1000.37;
  const ex = new Executor({ limits: { requests: { limit: 1, windowMs } }, pool: { kind: 'inline' } });
  const t0 = performance.now();
  const admittedAt: number[] = [];
  ex.on('admitted', (e) => admittedAt.push(e.at - t0));
  ex.submit(echo, 1);
  const second = ex.submit(echo, 2);
  await settle();
  t.deepEqual(admittedAt, [0]);
  t.is(second.status, 'QUEUED');
  await advance(windowMs - 0.01);
  t.is(second.status, 'QUEUED', 'not before the instant');
  await advance(0.01);
  t.is(second.status, 'COMPLETED', 'at the instant itself');
  t.is(admittedAt.length, 2);
  t.true(Math.abs(admittedAt[1]! - windowMs) < 1e-6, `admitted at ${admittedAt[1]} ms, due at ${windowMs}`);
  t.true(Math.abs(second.startedAt! - t0 - windowMs) < 1e-6);
  await ex.close();
});

fake.serial('rate capacity: while the head waits, the executor holds one timer and nothing fires before the instant', async (t) => {
  const ex = new Executor({ limits: { requests: { limit: 1, windowMs: 5000 } }, pool: { kind: 'inline' } });
  ex.submit(echo, 1);
  const second = ex.submit(echo, 2);
  await settle();
  t.is(fake.clock.countTimers(), 1, 'one timer for the exact instant');
  // Walk the clock up to 4 ms short of the instant in 10 ms steps: a poll would show as timers
  // that fire and re-arm; the exact timer stays the same single one.
  const fired: number[] = [];
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    fired.push(ms ?? 0);
    return realSetTimeout(fn, ms);
  }) as typeof setTimeout;
  try {
    for (let k = 0; k < 499; k++) await advance(10);
    await advance(6);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  t.is(second.status, 'QUEUED');
  t.deepEqual(fired, [], 'no timer was set again while the head waited');
  await advance(4);
  t.is(second.status, 'COMPLETED');
  await ex.close();
});

fake.serial('a queued call whose deadline passes is rejected at that instant (phase queued)', async (t) => {
  const g = gate();
  const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' } });
  ex.submit(g.service, { id: 1 });
  const t0 = performance.now();
  const call = ex.submit(g.service, { id: 2 }, CallContext.withTimeout('t', 100.5));
  const settled = call.result().catch((e: unknown) => e);
  await advance(100.49);
  t.is(call.status, 'QUEUED');
  await advance(0.01);
  t.is(call.status, 'FAILED');
  const err = (await settled) as DeadlineExceededError;
  t.true(err instanceof DeadlineExceededError);
  t.is(err.phase, 'queued');
  t.true(Math.abs(call.endedAt! - t0 - 100.5) < 1e-6, `failed at ${call.endedAt! - t0} ms`);
  t.is(ex.queued, 0);
  t.is(ex.running, 1);
  g.resolve(1);
  await ex.close();
});

fake.serial('a call waiting for rate capacity fails at its deadline, not when capacity frees', async (t) => {
  const ex = new Executor({ limits: { requests: { limit: 1, windowMs: 10_000 } }, pool: { kind: 'inline' } });
  ex.submit(echo, 1);
  const t0 = performance.now();
  const call = ex.submit(echo, 2, CallContext.withTimeout('t', 1000));
  const settled = call.result().catch((e: unknown) => e);
  await advance(999.9);
  t.is(call.status, 'QUEUED');
  await advance(0.1);
  t.is(call.status, 'FAILED');
  const err = (await settled) as DeadlineExceededError;
  t.is(err.code, 'E_DEADLINE');
  t.is(err.phase, 'queued');
  t.deepEqual(err.context, { waitingFor: 'requests' });
  t.true(Math.abs(call.endedAt! - t0 - 1000) < 1e-6);
  await ex.close({ drain: false });
});

fake.serial('a running call whose deadline passes is aborted at that instant through its signal', async (t) => {
  const g = gate();
  const ex = new Executor({ pool: { kind: 'inline' } });
  const t0 = performance.now();
  const call = ex.submit(g.service, { id: 1 }, CallContext.withTimeout('t', 50.25));
  const settled = call.result().catch((e: unknown) => e);
  await advance(50.24);
  t.is(call.status, 'EXECUTING');
  t.false(g.signals.get(1)!.aborted);
  await advance(0.01);
  t.is(call.status, 'FAILED');
  t.true(g.signals.get(1)!.aborted);
  t.is(((await settled) as DeadlineExceededError).phase, 'running');
  t.true(Math.abs(call.endedAt! - t0 - 50.25) < 1e-6);
  await ex.close();
});

fake.serial('several deadlines: each call fails at its own instant, in order, from one timer', async (t) => {
  const g = gate();
  const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' } });
  ex.submit(g.service, { id: 0 });
  const t0 = performance.now();
  const deadlines = [300, 100, 200.5, 50];
  const calls = deadlines.map((ms, i) => ex.submit(g.service, { id: i + 1 }, CallContext.withTimeout('t', ms)));
  for (const c of calls) c.result().catch(() => undefined);
  await settle();
  t.is(fake.clock.countTimers(), 1);
  for (const due of [...deadlines].sort((a, b) => a - b)) {
    await advance(due - (performance.now() - t0) - 0.01);
    t.is(calls[deadlines.indexOf(due)]!.status, 'QUEUED', `${due} ms call before its deadline`);
    await advance(0.01);
    t.is(calls[deadlines.indexOf(due)]!.status, 'FAILED', `${due} ms call at its deadline`);
  }
  g.resolve(0);
  await ex.close();
});

for (const [label, middleware] of [
  ['no middleware', []],
  ['through the middleware onion', [passThrough]],
] as const) {
  fake.serial(`a 429 with retry-after pauses admissions of every other call until it has passed (${label})`, async (t) => {
    const limited = defineService({ name: 'limited', handler: { call: () => Promise.reject(new RateLimitError('429', 300)) } });
    // Concurrency and the request limit never bind: only the pause can hold the second call.
    const ex = new Executor({ concurrency: 10, limits: { requests: { limit: 1000, windowMs: 1000 } }, pool: { kind: 'inline' }, middleware: [...middleware] });
    const reasons: string[] = [];
    ex.on('rateLimited', (e) => reasons.push(e.reason));
    const t0 = performance.now();
    await t.throwsAsync(ex.call(limited, {}), { code: 'E_RATE_LIMITED' });
    const other = ex.submit(echo, 'next');
    await settle();
    t.is(other.status, 'QUEUED', 'the pause holds the next call');
    t.deepEqual(reasons, ['paused']);
    await advance(299.9 - (performance.now() - t0));
    t.is(other.status, 'QUEUED');
    await advance(0.1);
    t.is(other.status, 'COMPLETED', 'admitted when the retry-after has passed');
    t.true(Math.abs(other.startedAt! - t0 - 300) < 1e-6, `admitted ${other.startedAt! - t0} ms after the 429`);
    await ex.close();
  });
}

fake.serial('close({ timeoutMs }) cancels what is unfinished at exactly that moment', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  const call = ex.submit(sleeper, { ms: 60_000 });
  call.result().catch(() => undefined);
  const closing = ex.close({ timeoutMs: 250 });
  await advance(249);
  t.is(call.status, 'EXECUTING');
  await advance(1);
  await closing;
  t.is(call.status, 'CANCELLED');
});

fake.serial('a token refund while the head waits admits it at once, not when the window said', async (t) => {
  const g = gate();
  const llm = defineService<{ id: number }, unknown>({ name: 'llm', handler: g.service.handler!, estimateTokens: () => 900 });
  const ex = new Executor({ limits: { tokens: { limit: 1000, windowMs: 60_000 } }, pool: { kind: 'inline' } });
  const first = ex.submit(llm, { id: 1 });
  const second = ex.submit(llm, { id: 2 });
  await settle();
  t.is(second.status, 'QUEUED', 'waits a minute for the first call\'s 900 tokens');
  await advance(10);
  g.resolve(1, withMeta('done', { usage: { tokens: 50 } }));
  await first.result();
  await settle();
  t.is(second.status, 'EXECUTING', 'admitted at the refund, 59.99 s early');
  g.resolve(2);
  await ex.close();
});

fake.serial('a waiting head cancelled in the last millisecond leaves no timer behind', async (t) => {
  const ex = new Executor({ limits: { requests: { limit: 1, windowMs: 1000.5 } }, pool: { kind: 'inline' } });
  ex.submit(echo, 1);
  const ac = new AbortController();
  const waiting = ex.submit(echo, 2, undefined, { signal: ac.signal });
  waiting.result().catch(() => undefined);
  // Inside the last 2 ms the wake timer waits on setImmediate turns.
  await advance(999.5);
  t.is(waiting.status, 'QUEUED');
  ac.abort();
  await settle(10);
  t.is(waiting.status, 'CANCELLED');
  t.is(fake.clock.countTimers(), 0, 'nothing re-armed after the cancel');
  await ex.close();
});

fake.serial('a deadline passing inside submit() (the clock jumps between its reads) fails the call once; it is never admitted after', async (t) => {
  // Found by the storm on a starved machine: the deadline timer fired inside submit(), the call
  // failed, then joined the queue, and was admitted when the slot freed (FAILED -> EXECUTING).
  const g = gate();
  // Deadlines from 0 to 12 ms ahead, each read of the clock 3 ms after the last during submit():
  // for some of them the deadline is ahead at one read and past at the next.
  for (let tenths = 0; tenths <= 120; tenths += 5) {
    const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' } });
    const blocker = ex.submit(g.service, { id: tenths });
    await settle();
    const ctx = CallContext.new('jump', { deadlineMs: performance.now() + tenths / 10 });
    let reads = 0;
    const call = withClockReads((now) => now + 3 * reads++, () => ex.submit(echo, tenths, ctx));
    await advance(20);
    t.is(call.status, 'FAILED', `deadline ${tenths / 10} ms ahead`);
    t.true(call.error instanceof DeadlineExceededError);
    t.is(ex.queued, 0, 'nothing left in the queue');
    g.resolve(tenths);
    await settle();
    t.is(blocker.status, 'COMPLETED');
    t.is(call.status, 'FAILED', 'the freed slot did not admit it');
    t.is(ex.running, 0);
    t.is(ex.stats().failed, 1);
    await ex.close();
  }
});

fake.serial('a queued call whose deadline has passed is never started, even when a slot frees before the deadline timer fires', async (t) => {
  const g = gate();
  const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' } });
  const blocker = ex.submit(g.service, { id: 1 });
  const late = ex.submit(g.service, { id: 2 }, CallContext.new('late', { deadlineMs: performance.now() + 10 }));
  await settle();
  t.deepEqual(g.started, [1]);
  // The clock reads 20 ms on, with no timer run yet (a loop busy past the deadline), and the slot frees.
  await withClockReads(
    (now) => now + 20,
    async () => {
      g.resolve(1);
      await settle();
    },
  );
  t.is(blocker.status, 'COMPLETED');
  t.deepEqual(g.started, [1], 'the late call was not started');
  await advance(10);
  t.is(late.status, 'FAILED');
  t.like(late.error, { code: 'E_DEADLINE', phase: 'queued' });
  t.is(ex.running, 0);
  t.is(ex.queued, 0);
  await ex.close();
});
