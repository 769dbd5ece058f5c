import test from 'ava';
import { DeadlineExceededError, isRetryable, type Invocation } from '../../src/index.js';
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
