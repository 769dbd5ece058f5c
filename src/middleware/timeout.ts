import { DeadlineExceededError } from '../core/errors.js';
import { noop } from '../core/noop.js';
import { resolveTimeoutArgs } from './options.js';
import { CALL_STATE, type CallNext, type Invocation, type Middleware, type StreamNext } from './types.js';

/**
 * A per-attempt time limit inside the call's overall deadline. Each attempt gets a derived
 * `AbortSignal` that aborts when the caller's signal does (cancel, deadline, close) or when
 * `ms` pass; on expiry the attempt fails at once with a *retryable* `DeadlineExceededError`
 * (`context.timeoutMs`), so a `retry` listed before it tries again while the overall deadline
 * allows. For a stream, `ms` bounds each wait for the next chunk (the first one included): a
 * stalled producer fails, a long healthy stream does not.
 *
 * `ms` is in (0, 2^31-1].
 *
 * @example new Executor({ middleware: [retry(), timeout(2_000)] })
 */
export function timeout(limitMs: number): Middleware {
  const { ms } = resolveTimeoutArgs({ ms: limitMs });

  const expired = (inv: Invocation): DeadlineExceededError => {
    const err = new DeadlineExceededError('running', { context: { timeoutMs: ms, attempt: inv.attempt } });
    err.message = `attempt ${inv.attempt} timed out after ${ms} ms`;
    err.retryable = true;
    return err;
  };

  /**
   * The attempt's signal: follows the caller's and aborts on expiry. Made only when someone
   * reads it (an AbortSignal and its listener cost microseconds; most handlers never look).
   */
  const attemptOf = (inv: Invocation) => {
    let controller: AbortController | undefined;
    let expiredWith: unknown;
    let parent: AbortSignal | undefined;
    const follow = () => controller!.abort(parent!.reason);
    const child = { kind: inv.kind, service: inv.service, request: inv.request, ctx: inv.ctx, call: inv.call, attempt: inv.attempt, [CALL_STATE]: inv[CALL_STATE] } as Omit<Invocation, 'signal'>;
    Object.defineProperty(child, 'signal', {
      enumerable: true,
      configurable: true,
      get: () => {
        if (controller === undefined) {
          controller = new AbortController();
          parent = inv.signal;
          if (expiredWith !== undefined) controller.abort(expiredWith);
          else if (parent.aborted) controller.abort(parent.reason);
          else parent.addEventListener('abort', follow, { once: true });
        }
        return controller.signal;
      },
    });
    return {
      inv: child as Invocation,
      expire(err: unknown): void {
        expiredWith = err;
        controller?.abort(err);
      },
      release(): void {
        parent?.removeEventListener('abort', follow);
      },
    };
  };

  return {
    name: 'timeout',

    call(inv: Invocation, next: CallNext): Promise<unknown> {
      const attempt = attemptOf(inv);
      return new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          const err = expired(inv);
          attempt.expire(err);
          reject(err);
        }, ms);
        const done = () => {
          clearTimeout(timer);
          attempt.release();
        };
        let p: Promise<unknown>;
        try {
          p = next(attempt.inv);
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(
          (v) => {
            done();
            resolve(v);
          },
          (e: unknown) => {
            done();
            reject(e);
          },
        );
      });
    },

    stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      return {
        [Symbol.asyncIterator](): AsyncIterator<unknown> {
          const attempt = attemptOf(inv);
          let inner: AsyncIterator<unknown> | undefined;
          let finished = false;
          const finish = () => {
            finished = true;
            attempt.release();
          };
          return {
            next(): Promise<IteratorResult<unknown>> {
              if (finished) return Promise.resolve({ done: true, value: undefined });
              return new Promise<IteratorResult<unknown>>((resolve, reject) => {
                const timer = setTimeout(() => {
                  const err = expired(inv);
                  finish();
                  attempt.expire(err);
                  inner?.return?.()?.catch(noop);
                  reject(err);
                }, ms);
                let p: Promise<IteratorResult<unknown>>;
                try {
                  inner ??= next(attempt.inv)[Symbol.asyncIterator]();
                  p = inner.next();
                } catch (err) {
                  p = Promise.reject(err);
                }
                p.then(
                  (r) => {
                    clearTimeout(timer);
                    if (r.done === true) finish();
                    resolve(r);
                  },
                  (e: unknown) => {
                    clearTimeout(timer);
                    finish();
                    reject(e);
                  },
                );
              });
            },
            return(value?: unknown): Promise<IteratorResult<unknown>> {
              finish();
              const r = inner?.return?.(value);
              return r === undefined ? Promise.resolve({ done: true, value }) : r.then(() => ({ done: true, value }), () => ({ done: true, value }));
            },
          };
        },
      };
    },
  };
}
