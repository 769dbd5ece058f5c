import test from 'ava';
import { DeadlineExceededError, derive, isRetryable, type Invocation } from '../../src/index.js';
import { retry } from '../../src/middleware/retry.js';
import { timeout } from '../../src/middleware/timeout.js';
import { chunks, collect, fakeInv } from '../helpers/middleware-fakes.js';

/** Never settles on its own; rejects with the signal's reason when aborted. Records the signals. */
function hanging(signals: AbortSignal[]) {
  return (inv: Invocation) =>
    new Promise<never>((_, reject) => {
      signals.push(inv.signal);
      inv.signal.addEventListener('abort', () => reject(inv.signal.reason), { once: true });
    });
}

test('timeout: an attempt past its limit fails with a retryable DeadlineExceededError and its signal aborts', async (t) => {
  const signals: AbortSignal[] = [];
  const err = await t.throwsAsync(timeout(30).call!(fakeInv(), hanging(signals)), { instanceOf: DeadlineExceededError });
  t.true(isRetryable(err));
  t.is(err!.context?.['timeoutMs'], 30);
  t.true(signals[0]!.aborted);
  t.is(signals[0]!.reason, err);
});

test('timeout: a fast attempt is unaffected; the caller\'s abort reaches the derived signal', async (t) => {
  t.is(await timeout(10_000).call!(fakeInv(), async () => 'fast'), 'fast');
  const controller = new AbortController();
  const signals: AbortSignal[] = [];
  const p = timeout(10_000).call!(fakeInv({ signal: controller.signal }), hanging(signals));
  controller.abort(new Error('caller cancelled'));
  await t.throwsAsync(p, { message: 'caller cancelled' });
  t.true(signals[0]!.aborted);
});

test('timeout inside retry: each attempt gets its own limit and signal', async (t) => {
  const signals: AbortSignal[] = [];
  const attempts: number[] = [];
  const r = retry({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 });
  const to = timeout(20);
  const next = (inv: Invocation) => {
    attempts.push(inv.attempt);
    return inv.attempt < 3 ? hanging(signals)(inv) : Promise.resolve('third time');
  };
  t.is(await r.call!(fakeInv(), (inv) => to.call!(inv, next)), 'third time');
  t.deepEqual(attempts, [1, 2, 3]);
  t.is(signals.length, 2);
  t.not(signals[0], signals[1]);
});

test('timeout on a stream bounds each wait for a chunk, not the whole stream', async (t) => {
  async function* steady() {
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 40));
      yield i;
    }
  }
  // 240 ms of chunks 40 ms apart: longer than the 100 ms limit as a whole, never per wait.
  t.deepEqual(await collect(timeout(100).stream!(fakeInv({ kind: 'stream' }), steady)), [0, 1, 2, 3, 4, 5]);
  let aborted: AbortSignal | undefined;
  async function* stalls(inv: Invocation) {
    aborted = inv.signal;
    yield 'first';
    await new Promise((_, reject) => inv.signal.addEventListener('abort', () => reject(inv.signal.reason), { once: true }));
  }
  const got: unknown[] = [];
  await t.throwsAsync(async () => {
    for await (const c of timeout(30).stream!(fakeInv({ kind: 'stream' }), stalls as never)) got.push(c);
  }, { instanceOf: DeadlineExceededError });
  t.deepEqual(got, ['first']);
  t.true(aborted!.aborted);
  t.deepEqual(await collect(timeout(50).stream!(fakeInv({ kind: 'stream' }), () => chunks([1]))), [1]);
});

test('timeout(ms) checks its argument', (t) => {
  t.throws(() => timeout(0), { code: 'E_CONFIG', message: /ms/ });
  t.throws(() => timeout(Number.NaN), { code: 'E_CONFIG' });
});

test('timeout: the error names the attempt and the limit; a signal first read after expiry is already aborted with it', async (t) => {
  let late: AbortSignal | undefined;
  const err = await t.throwsAsync(
    timeout(20).call!(fakeInv({ attempt: 2 }), (inv) => new Promise<never>(() => setTimeout(() => (late = inv.signal), 40))),
    { instanceOf: DeadlineExceededError, message: 'attempt 2 timed out after 20 ms' },
  );
  t.deepEqual(err!.context, { timeoutMs: 20, attempt: 2 });
  t.is(err!.phase, 'running');
  await new Promise((r) => setTimeout(r, 40));
  t.true(late!.aborted);
  t.is(late!.reason, err);
});

test('timeout: a signal first read after the caller aborted is aborted with the caller\'s reason; after the attempt settles it no longer follows the caller', async (t) => {
  const controller = new AbortController();
  const reason = new Error('caller gone');
  controller.abort(reason);
  let read: AbortSignal | undefined;
  await t.throwsAsync(timeout(10_000).call!(fakeInv({ signal: controller.signal }), async (inv) => {
    read = inv.signal;
    throw inv.signal.reason;
  }), { is: reason });
  t.true(read!.aborted);

  const live = new AbortController();
  let kept: AbortSignal | undefined;
  t.is(await timeout(10_000).call!(fakeInv({ signal: live.signal }), async (inv) => {
    kept = inv.signal;
    return 'done';
  }), 'done');
  live.abort(new Error('later'));
  t.false(kept!.aborted, 'the finished attempt stopped following the caller');
});

test('timeout: a next that throws synchronously is a rejection, for calls and streams', async (t) => {
  const boom = new Error('sync');
  await t.throwsAsync(timeout(1000).call!(fakeInv(), () => { throw boom; }), { is: boom });
  await t.throwsAsync(collect(timeout(1000).stream!(fakeInv({ kind: 'stream' }), () => { throw boom; })), { is: boom });
});

test('timeout on a stream: an expired wait closes the producer; the iterator is then done; return() passes its value and closes the producer', async (t) => {
  let returned = 0;
  let served = 0;
  // A producer that gives one chunk, then never another; it counts the return() calls it gets.
  const stalls = () => ({
    [Symbol.asyncIterator]: () => ({
      next: () => (served++ === 0 ? Promise.resolve({ done: false, value: 'first' }) : new Promise<never>(() => {})),
      return: () => {
        returned++;
        return Promise.resolve({ done: true, value: undefined });
      },
    }),
  });
  const it = timeout(30).stream!(fakeInv({ kind: 'stream' }), stalls as never)[Symbol.asyncIterator]();
  t.deepEqual(await it.next(), { done: false, value: 'first' });
  await t.throwsAsync(it.next(), { instanceOf: DeadlineExceededError });
  t.is(returned, 1, 'the stalled producer was told to stop');
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.is(served, 2, 'a finished stream asks its producer for nothing more');

  let closed = 0;
  let pulls = 0;
  async function* counted() {
    try {
      for (;;) {
        pulls++;
        yield pulls;
      }
    } finally {
      closed++;
    }
  }
  const it2 = timeout(1000).stream!(fakeInv({ kind: 'stream' }), counted as never)[Symbol.asyncIterator]();
  t.deepEqual(await it2.next(), { done: false, value: 1 });
  t.deepEqual(await it2.return!('bye'), { done: true, value: 'bye' });
  t.deepEqual(await it2.next(), { done: true, value: undefined });
  t.is(pulls, 1);
  t.is(closed, 1);
  const ended = timeout(1000).stream!(fakeInv({ kind: 'stream' }), () => chunks([7]))[Symbol.asyncIterator]();
  t.deepEqual(await ended.next(), { done: false, value: 7 });
  t.deepEqual(await ended.next(), { done: true, value: undefined });
  t.deepEqual(await ended.return!('v'), { done: true, value: 'v' });
  const unstarted = timeout(1000).stream!(fakeInv({ kind: 'stream' }), () => chunks([7]))[Symbol.asyncIterator]();
  t.deepEqual(await unstarted.return!('u'), { done: true, value: 'u' });
});

test('timeout: the attempt\'s signal travels with copies of the invocation ({...inv}, derive), and derive can still replace it', async (t) => {
  const mw = timeout(10_000);
  t.is(mw.name, 'timeout');
  const other = new AbortController().signal;
  await mw.call!(fakeInv(), async (inv) => {
    t.is({ ...inv }.signal, inv.signal);
    t.is(derive(inv, { attempt: 2 }).signal, inv.signal);
    t.is(derive(inv, { signal: other }).signal, other);
    return 1;
  });
});

test('timeout on a stream: an ended stream asks its producer for nothing more and stops following the caller; a producer without return() is fine', async (t) => {
  let pulls = 0;
  let kept: AbortSignal | undefined;
  const caller = new AbortController();
  const once = (inv: Invocation) => ({
    [Symbol.asyncIterator]: () => ({
      next: () => {
        kept = inv.signal;
        return Promise.resolve(pulls++ === 0 ? { done: false, value: 'only' } : { done: true, value: undefined });
      },
    }),
  });
  const it = timeout(1000).stream!(fakeInv({ kind: 'stream', signal: caller.signal }), once as never)[Symbol.asyncIterator]();
  t.deepEqual(await it.next(), { done: false, value: 'only' });
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.deepEqual(await it.next(), { done: true, value: undefined });
  t.is(pulls, 2);
  caller.abort(new Error('later'));
  t.false(kept!.aborted, 'the ended stream stopped following the caller');
  t.deepEqual(await it.return!('r'), { done: true, value: 'r' });

  // No return() on the producer: expiry and an early return() still end cleanly.
  const stalled = () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }) });
  const s1 = timeout(20).stream!(fakeInv({ kind: 'stream' }), stalled as never)[Symbol.asyncIterator]();
  await t.throwsAsync(s1.next(), { instanceOf: DeadlineExceededError });
  const s2 = timeout(1000).stream!(fakeInv({ kind: 'stream' }), once as never)[Symbol.asyncIterator]();
  pulls = 0;
  await s2.next();
  t.deepEqual(await s2.return!('v'), { done: true, value: 'v' });
  // A producer whose return() fails: the consumer's return() still ends done, with its value.
  const failing = () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: false, value: 1 }), return: () => Promise.reject(new Error('no')) }) });
  const s3 = timeout(1000).stream!(fakeInv({ kind: 'stream' }), failing as never)[Symbol.asyncIterator]();
  await s3.next();
  t.deepEqual(await s3.return!('w'), { done: true, value: 'w' });
});
