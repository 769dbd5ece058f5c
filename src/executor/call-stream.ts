import { noop } from '../core/noop.js';
import type { ServiceCall } from '../core/service-call.js';

/** What a `CallStream` needs from the executor that owns it. */
export interface StreamOwner {
  /** The consumer stopped early (break, return(), throw()): cancel the call. */
  stop(reason: unknown): void;
  /** The producer finished or failed; settle the call. */
  end(error?: unknown): void;
}

/**
 * The `AsyncIterable` that `executor.stream()` returns. It is queued like a call; iteration
 * waits for admission, then pulls chunks one at a time (so a slow consumer slows the producer).
 * `break` or `return()` at any point — even before admission — cancels the call and frees its
 * queue entry or concurrency slot at once.
 */
export class CallStream<T = unknown> implements AsyncIterableIterator<T> {
  readonly call: ServiceCall;
  #owner: StreamOwner;
  #iterator: AsyncIterator<unknown> | undefined;
  #ready: Promise<void>;
  #open!: () => void;
  #refuse!: (e: unknown) => void;
  #done = false;

  constructor(call: ServiceCall, owner: StreamOwner) {
    this.call = call;
    this.#owner = owner;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#refuse = reject;
    });
    this.#ready.catch(noop);
  }

  /** @internal The call was admitted: chunks come from `source`. */
  begin(source: AsyncIterable<unknown>): void {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#open();
  }

  /** @internal The call settled before it was admitted (deadline, cancel, close). */
  refuse(error: unknown): void {
    this.#refuse(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#done) return { done: true, value: undefined };
    try {
      if (this.#iterator === undefined) await this.#ready;
      const r = await this.#iterator!.next();
      if (r.done) {
        this.#done = true;
        this.#owner.end();
        if (this.call.status !== 'COMPLETED') throw this.call.error;
        return { done: true, value: undefined };
      }
      return { done: false, value: r.value as T };
    } catch (err) {
      this.#done = true;
      this.#owner.end(err);
      // Once settled (by a deadline, say), the call's own error is the one to report.
      throw this.call.error ?? err;
    }
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.#done) {
      this.#done = true;
      this.#owner.stop('the consumer stopped iterating');
      closeQuietly(this.#iterator);
    }
    return { done: true, value: undefined };
  }

  async throw(err?: unknown): Promise<IteratorResult<T>> {
    if (!this.#done) {
      this.#done = true;
      this.#owner.stop(err ?? 'the consumer threw');
      closeQuietly(this.#iterator);
    }
    throw err;
  }
}

/**
 * Closes the producer the consumer left. A middleware's iterator may have no `return()`, or one
 * that answers synchronously or throws: the consumer is leaving either way.
 */
function closeQuietly(it: AsyncIterator<unknown> | undefined): void {
  try {
    Promise.resolve(it?.return?.()).catch(noop);
  } catch {
    // A return() that throws has nothing left to close.
  }
}
