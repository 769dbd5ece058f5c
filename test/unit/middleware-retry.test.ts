import { getEventListeners } from 'node:events';
import test from 'ava';
import fc from 'fast-check';
import { CallContext, DeadlineExceededError, RateLimitError, TransportError, type Invocation } from '../../src/index.js';
import { fullJitterDelay } from '../../src/middleware/backoff.js';
import { retry } from '../../src/middleware/retry.js';
import { installClock, settle } from '../helpers/fake-clock.js';
import { ManualClock, chunks, collect, fakeInv, fakeSleep } from '../helpers/middleware-fakes.js';

const flaky = () => new TransportError('503 from upstream', 503, { retryable: true });

/** A `next` that fails its first `failures` attempts with `error()`, then returns the attempt number. */
function failing(failures: number, error: () => unknown = flaky) {
  const attempts: number[] = [];
  return {
    attempts,
    next: async (inv: Invocation) => {
      attempts.push(inv.attempt);
      if (attempts.length <= failures) throw error();
      return inv.attempt;
    },
  };
}

test('retry: retryable errors are tried again up to maxAttempts, each attempt numbered', async (t) => {
  const clock = new ManualClock();
  const { sleep, waits } = fakeSleep(clock);
  const mw = retry({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, clock: clock.now, sleep, random: () => 0.5 });
  const ok = failing(3);
  t.is(await mw.call!(fakeInv(), ok.next), 4);
  t.deepEqual(ok.attempts, [1, 2, 3, 4]);
  // Full jitter with random() = 0.5: half of 100, 200, 400.
  t.deepEqual(waits, [50, 100, 200]);
  const exhausted = failing(10);
  await t.throwsAsync(mw.call!(fakeInv(), exhausted.next), { code: 'E_TRANSPORT' });
  t.deepEqual(exhausted.attempts, [1, 2, 3, 4]);
});

test('retry: a non-retryable error (a 4xx) fails at once', async (t) => {
  const clock = new ManualClock();
  const { sleep, waits } = fakeSleep(clock);
  const mw = retry({ clock: clock.now, sleep });
  const bad = failing(5, () => new TransportError('400 bad request', 400));
  await t.throwsAsync(mw.call!(fakeInv(), bad.next), { code: 'E_TRANSPORT' });
  t.deepEqual(bad.attempts, [1]);
  t.deepEqual(waits, []);
});

test('retry: a rate-limit error\'s retryAfterMs is the least it waits', async (t) => {
  const clock = new ManualClock();
  const { sleep, waits } = fakeSleep(clock);
  const mw = retry({ baseDelayMs: 10, maxDelayMs: 100, clock: clock.now, sleep, random: () => 0.99 });
  const limited = failing(1, () => new RateLimitError('429', 2500));
  t.is(await mw.call!(fakeInv(), limited.next), 2);
  t.deepEqual(waits, [2500]);
});

test('retry never sleeps past the deadline', async (t) => {
  const clock = new ManualClock();
  const { sleep, waits } = fakeSleep(clock);
  const mw = retry({ maxAttempts: 10, baseDelayMs: 400, maxDelayMs: 10_000, clock: clock.now, sleep, random: () => 0.999 });
  const ctx = CallContext.new('b', { deadlineMs: 1000 });
  const always = failing(100);
  const err = await t.throwsAsync(mw.call!(fakeInv({ ctx }), always.next), { instanceOf: DeadlineExceededError });
  t.is(err!.phase, 'retry');
  t.is(err!.code, 'E_DEADLINE');
  t.true(err!.cause instanceof TransportError);
  t.true(clock.t < 1000, `slept until ${clock.t}`);
  t.deepEqual(waits.map(Math.round), [400]);
  t.is(always.attempts.length, 2);

  // A Retry-After longer than what is left fails at once, without sleeping at all.
  const clock2 = new ManualClock();
  const s2 = fakeSleep(clock2);
  const mw2 = retry({ clock: clock2.now, sleep: s2.sleep });
  await t.throwsAsync(mw2.call!(fakeInv({ ctx }), failing(1, () => new RateLimitError('429', 5000)).next), { instanceOf: DeadlineExceededError });
  t.deepEqual(s2.waits, []);

  // For any backoff and deadline: every wait ends before the deadline.
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 2000 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), fc.option(fc.integer({ min: 0, max: 3000 })), async (deadline, base, r, after) => {
      const c = new ManualClock();
      const s = fakeSleep(c);
      const m = retry({ maxAttempts: 20, baseDelayMs: base, clock: c.now, sleep: s.sleep, random: () => r });
      const f = failing(1000, () => (after === null ? flaky() : new RateLimitError('429', after)));
      const e = await m.call!(fakeInv({ ctx: CallContext.new('b', { deadlineMs: deadline }) }), f.next).catch((x: unknown) => x);
      return c.t < deadline && (e instanceof DeadlineExceededError || e instanceof TransportError || e instanceof RateLimitError);
    }),
  );
});

test('retry: an abort during the wait rejects at once with the abort reason', async (t) => {
  const controller = new AbortController();
  const mw = retry({ baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.99 });
  const f = failing(5);
  const p = mw.call!(fakeInv({ signal: controller.signal }), async (inv) => {
    const r = f.next(inv);
    r.catch(() => setImmediate(() => controller.abort(new Error('caller gave up'))));
    return r;
  });
  await t.throwsAsync(p, { message: 'caller gave up' });
  t.deepEqual(f.attempts, [1]);
});

test('retry: a stream is retried before its first chunk, never after', async (t) => {
  const clock = new ManualClock();
  const { sleep } = fakeSleep(clock);
  const mw = retry({ maxAttempts: 3, clock: clock.now, sleep });
  const inv = fakeInv({ kind: 'stream' });
  const attempts: number[] = [];
  const early = (i: Invocation) => {
    attempts.push(i.attempt);
    return attempts.length < 3 ? chunks([], flaky()) : chunks(['a', 'b']);
  };
  t.deepEqual(await collect(mw.stream!(inv, early)), ['a', 'b']);
  t.deepEqual(attempts, [1, 2, 3]);
  attempts.length = 0;
  const late = (i: Invocation) => {
    attempts.push(i.attempt);
    return chunks(['a'], flaky());
  };
  const got: unknown[] = [];
  await t.throwsAsync(async () => {
    for await (const c of mw.stream!(inv, late)) got.push(c);
  }, { code: 'E_TRANSPORT' });
  t.deepEqual(got, ['a']);
  t.deepEqual(attempts, [1]);
});

test('full jitter stays within [0, min(maxDelay, base * factor^(n-1))]', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 60_000 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (n, base, max, r) => {
      const d = fullJitterDelay(n, { baseDelayMs: base, maxDelayMs: max, factor: 2 }, () => r);
      return d >= 0 && d <= Math.min(max, base * 2 ** (n - 1));
    }),
  );
  t.is(fullJitterDelay(3, { baseDelayMs: 100, maxDelayMs: 10_000, factor: 2 }, () => 0.5), 200);
});

test('retry options are checked, naming the option', (t) => {
  t.throws(() => retry({ maxAttempts: 0 }), { code: 'E_CONFIG', message: /maxAttempts/ });
  t.throws(() => retry({ baseDelayMs: -1, sleep: 5 as never }), { code: 'E_CONFIG', message: /baseDelayMs.*sleep/ });
});

test('retry: the deadline error carries the attempts, the wait and what was left; a wait ending exactly at the deadline is refused', async (t) => {
  const clock = new ManualClock();
  const { sleep, waits } = fakeSleep(clock);
  // random() = 0.5: the first wait is 50 ms, the second 100 ms; 150 ms of deadline leaves exactly 100 for it.
  const mw = retry({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, clock: clock.now, sleep, random: () => 0.5 });
  const always = failing(100);
  const err = await t.throwsAsync(mw.call!(fakeInv({ ctx: CallContext.new('b', { deadlineMs: 150 }) }), always.next), { instanceOf: DeadlineExceededError });
  t.deepEqual(waits, [50]);
  t.deepEqual(always.attempts, [1, 2]);
  t.deepEqual(err!.context, { attempts: 2, delayMs: 100, remainingMs: 100 });
  // Past the deadline already: nothing is left, never a negative figure.
  const late = new ManualClock();
  late.advance(500);
  const s2 = fakeSleep(late);
  const e2 = await t.throwsAsync(retry({ clock: late.now, sleep: s2.sleep, random: () => 0.5 }).call!(fakeInv({ ctx: CallContext.new('b', { deadlineMs: 400 }) }), failing(1).next), { instanceOf: DeadlineExceededError });
  t.like(e2!.context, { attempts: 1, remainingMs: 0 });
});

test('retry: a retryAfterMs shorter than the backoff, or not a finite number, leaves the backoff wait', async (t) => {
  const clock = new ManualClock();
  const { sleep, waits } = fakeSleep(clock);
  const mw = retry({ baseDelayMs: 100, maxDelayMs: 1000, clock: clock.now, sleep, random: () => 0.5 });
  for (const after of [1, Number.POSITIVE_INFINITY, Number.NaN]) {
    const f = failing(1, () => Object.assign(new TransportError('429', 429, { retryable: true }), { retryAfterMs: after }));
    t.is(await mw.call!(fakeInv(), f.next), 2);
  }
  t.deepEqual(waits, [50, 50, 50]);
});

test('retry: onRetry sees each retry (attempt, wait, error) before it sleeps; a throwing onRetry changes nothing', async (t) => {
  const clock = new ManualClock();
  const { sleep } = fakeSleep(clock);
  const seen: unknown[] = [];
  const mw = retry({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000, clock: clock.now, sleep, random: () => 0.5, onRetry: (i) => {
    seen.push({ ...i, at: clock.t });
    throw new Error('observer fault');
  } });
  const errors: unknown[] = [];
  const f = failing(2, () => {
    const e = flaky();
    errors.push(e);
    return e;
  });
  t.is(await mw.call!(fakeInv(), f.next), 3);
  t.deepEqual(seen, [{ attempt: 1, delayMs: 50, error: errors[0], at: 0 }, { attempt: 2, delayMs: 100, error: errors[1], at: 50 }]);
});

test('retry: an attempt that fails after the caller aborted is not retried: the abort reason, no onRetry, no deadline error', async (t) => {
  const controller = new AbortController();
  const reason = new Error('cancelled');
  let retries = 0;
  const mw = retry({ maxAttempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000, random: () => 0.5, onRetry: () => retries++ });
  const ctx = CallContext.new('b', { deadlineMs: performance.now() + 1000 });
  await t.throwsAsync(mw.call!(fakeInv({ ctx, signal: controller.signal }), async () => {
    controller.abort(reason);
    throw flaky();
  }), { is: reason });
  t.is(retries, 0);
});

test('retry on a stream: the first attempt passes the invocation as is; a consumer leaving during a failing attempt or the backoff wait ends it', async (t) => {
  const inv = fakeInv({ kind: 'stream' });
  const seen: Invocation[] = [];
  t.deepEqual(await collect(retry().stream!(inv, (i) => {
    seen.push(i);
    return chunks(['x']);
  })), ['x']);
  t.is(seen[0], inv);

  // Left while the first attempt was pending: its failure is the outcome, nothing is retried.
  let attempts = 0;
  let fail!: (e: unknown) => void;
  const pending = () => {
    attempts++;
    return { [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>((_, reject) => (fail = reject)) }) };
  };
  const it = retry({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 }).stream!(inv, pending as never)[Symbol.asyncIterator]();
  const first = it.next();
  t.deepEqual(await it.return!('gone'), { done: true, value: 'gone' });
  const boom = flaky();
  fail(boom);
  await t.throwsAsync(first, { is: boom });
  t.is(attempts, 1);

  // Left during the backoff wait: the wait ends done, with no second attempt.
  let tries = 0;
  let leave!: () => void;
  const it2 = retry({ maxAttempts: 3, sleep: () => new Promise<void>((r) => (leave = r)) }).stream!(inv, () => {
    tries++;
    return chunks([], flaky());
  })[Symbol.asyncIterator]();
  const waiting = it2.next();
  await new Promise((r) => setImmediate(r));
  await it2.return!();
  leave();
  t.deepEqual(await waiting, { done: true, value: undefined });
  t.is(tries, 1);
});

test.serial('retry\'s own sleep: a wait leaves no abort listener behind; an aborted wait leaves no timer behind', async (t) => {
  const clock = installClock();
  try {
    const controller = new AbortController();
    const mw = retry({ maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000, random: () => 0.5 });
    const done = mw.call!(fakeInv({ signal: controller.signal }), failing(1).next);
    await settle();
    t.is(clock.countTimers(), 1, 'one timer for the 500 ms wait');
    t.is(getEventListeners(controller.signal, 'abort').length, 1);
    clock.tick(500);
    t.is(await done, 2);
    t.is(getEventListeners(controller.signal, 'abort').length, 0, 'the finished wait stopped listening');

    const c2 = new AbortController();
    const aborted = mw.call!(fakeInv({ signal: c2.signal }), failing(1).next);
    await settle();
    t.is(clock.countTimers(), 1);
    c2.abort(new Error('gone'));
    await t.throwsAsync(aborted, { message: 'gone' });
    t.is(clock.countTimers(), 0, 'the aborted wait cleared its timer');
    t.is(getEventListeners(c2.signal, 'abort').length, 0);

    // Aborted by onRetry itself, just before the wait: it never starts.
    const c3 = new AbortController();
    const selfAborting = retry({ maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000, onRetry: () => c3.abort(new Error('no more')) });
    let outcome = 'pending';
    selfAborting.call!(fakeInv({ signal: c3.signal }), failing(1).next).then(() => (outcome = 'resolved'), (e: Error) => (outcome = e.message));
    await settle();
    t.is(outcome, 'no more');
    t.is(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

test('retry: any rejection value its shouldRetry accepts is retried, even null; return() of a stream passes its value, started or not', async (t) => {
  const mw = retry({ maxAttempts: 2, baseDelayMs: 0, shouldRetry: () => true });
  t.is(mw.name, 'retry');
  let n = 0;
  t.is(await mw.call!(fakeInv(), async () => {
    if (n++ === 0) throw null;
    return 'second';
  }), 'second');
  const inv = fakeInv({ kind: 'stream' });
  t.deepEqual(await mw.stream!(inv, () => chunks([1]))[Symbol.asyncIterator]().return!('unstarted'), { done: true, value: 'unstarted' });
  const closed: unknown[] = [];
  const producer = (fails: boolean) => () => ({
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ done: false, value: 'c' }),
      return: (v: unknown) => {
        closed.push(v);
        return fails ? Promise.reject(new Error('no')) : Promise.resolve({ done: true, value: 'ignored' });
      },
    }),
  });
  for (const fails of [false, true]) {
    const it = mw.stream!(inv, producer(fails) as never)[Symbol.asyncIterator]();
    await it.next();
    t.deepEqual(await it.return!(`v${String(fails)}`), { done: true, value: `v${String(fails)}` });
  }
  t.deepEqual(closed, ['vfalse', 'vtrue']);
});
