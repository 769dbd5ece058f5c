import { now } from '../core/clock.js';
import { DeadlineExceededError, isRetryable } from '../core/errors.js';
import { fullJitterDelay } from './backoff.js';
import { callNext } from './next-safely.js';
import { resolveRetryOptions, type RetryOptions } from './options.js';
import { sleep as realSleep, type Sleep } from './sleep.js';
import { derive, type CallNext, type Invocation, type Middleware, type StreamNext } from './types.js';

export type { RetryInfo, RetryOptions } from './options.js';

/**
 * Tries a failed call again, with exponential backoff and full jitter, while the error is
 * retryable and attempts remain. A rate-limit error's `retryAfterMs` is a floor for the wait.
 * It never sleeps past the call's deadline: when the wait would end at or after it, the call
 * fails at once with `DeadlineExceededError('retry')` (the last error as its `cause`). Each
 * attempt goes down as `derive(inv, { attempt: n })`: the executor admits it again at the head
 * of its queue (rate capacity, `admitted`/`rateLimited` events), like a first attempt. A stream is retried only until its first chunk; after that its errors pass through.
 *
 * @example new Executor({ middleware: [retry({ maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 })] })
 */
export function retry(options: RetryOptions = {}): Middleware {
  const o = resolveRetryOptions(options);
  const maxAttempts = o.maxAttempts;
  const backoff = { baseDelayMs: o.baseDelayMs, maxDelayMs: o.maxDelayMs, factor: o.factor };
  // Function defaults live here: a schema default is data.
  const shouldRetry = o.shouldRetry ?? isRetryable;
  const clock = o.clock ?? now;
  const sleep = o.sleep ?? realSleep;
  const random = o.random ?? Math.random;
  const onRetry = o.onRetry;

  /** The wait before the next attempt, or throws the error the call must end with. */
  const plan = (inv: Invocation, err: unknown, attempt: number): number => {
    if (attempt - inv.attempt + 1 >= maxAttempts || !shouldRetry(err, attempt)) throw err;
    const signal = inv.signal;
    if (signal.aborted) throw signal.reason;
    let delay = fullJitterDelay(attempt - inv.attempt + 1, backoff, random);
    const after = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    if (typeof after === 'number' && Number.isFinite(after) && after > delay) delay = after;
    const deadline = inv.ctx.deadline;
    if (deadline !== undefined) {
      const left = deadline - clock();
      if (delay >= left) {
        throw new DeadlineExceededError('retry', { cause: err, context: { attempts: attempt - inv.attempt + 1, delayMs: Math.round(delay), remainingMs: Math.max(0, Math.round(left)) } });
      }
    }
    if (onRetry !== undefined) {
      try {
        onRetry({ attempt, delayMs: delay, error: err });
      } catch {
        // An observer's fault must not change the outcome of the call.
      }
    }
    return delay;
  };

  const again = (inv: Invocation, attempt: number): Invocation => derive(inv, { attempt });

  return {
    name: 'retry',

    call(inv: Invocation, next: CallNext): Promise<unknown> {
      const loop = (err: unknown, attempt: number): Promise<unknown> => {
        let delay: number;
        try {
          delay = plan(inv, err, attempt);
        } catch (final) {
          return Promise.reject(final);
        }
        return sleep(delay, inv.signal).then(() => next(again(inv, attempt + 1)).catch((e: unknown) => loop(e, attempt + 1)));
      };
      return callNext(next, inv).catch((err: unknown) => loop(err, inv.attempt));
    },

    stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      return {
        [Symbol.asyncIterator](): AsyncIterator<unknown> {
          let inner: AsyncIterator<unknown> | undefined;
          let started = false;
          let stopped = false;
          const first = async (): Promise<IteratorResult<unknown>> => {
            for (let attempt = inv.attempt; ; attempt++) {
              try {
                inner = next(attempt === inv.attempt ? inv : again(inv, attempt))[Symbol.asyncIterator]();
                const r = await inner.next();
                started = true;
                return r;
              } catch (err) {
                if (stopped) throw err;
                await sleep(plan(inv, err, attempt), inv.signal);
                if (stopped) return { done: true, value: undefined };
              }
            }
          };
          return {
            next: () => (started ? inner!.next() : first()),
            return: (value?: unknown) => {
              stopped = true;
              const r = inner?.return?.(value);
              return r === undefined ? Promise.resolve({ done: true, value }) : r.then(() => ({ done: true, value }), () => ({ done: true, value }));
            },
          };
        },
      };
    },
  };
}
