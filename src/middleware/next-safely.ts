import type { CallNext, Invocation, StreamNext } from './types.js';

/**
 * Calls the next layer so that a synchronous throw (from a middleware below that forgot to
 * return a rejected promise) becomes a rejection this layer can still see and act on.
 */
export function callNext(next: CallNext, inv: Invocation): Promise<unknown> {
  try {
    return next(inv);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The stream of the next layer, or one that fails with what it threw synchronously. */
export function streamNext(next: StreamNext, inv: Invocation): AsyncIterable<unknown> {
  try {
    return next(inv);
  } catch (err) {
    return failing(err);
  }
}

/** An iterable whose first `next()` rejects with `err`. */
export async function* failing(err: unknown): AsyncGenerator<never> {
  throw err;
}
