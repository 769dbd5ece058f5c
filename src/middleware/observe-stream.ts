/** What a middleware wants to hear of a stream passing through it. */
export interface StreamObserver {
  /** Each chunk; the value (or promise of one) returned replaces it. */
  chunk?(value: unknown): unknown;
  /** The producer finished; a returned promise is awaited before the consumer hears of it. */
  end?(): void | Promise<void>;
  /** The producer failed; the value returned (or resolved) is thrown instead (e.g. a scrubbed copy). */
  error?(err: unknown): unknown;
  /** The consumer stopped early (`break`, `return()`). */
  cancel?(): void;
}

/**
 * Passes a stream through chunk by chunk, holding nothing: each `next()` of the consumer is one
 * `next()` of the producer, so backpressure and memory are those of the producer alone. Cheaper
 * than an async generator (one promise per chunk, no generator state machine). Exactly one of
 * `end`, `error` or `cancel` is called, once.
 */
export function observeStream(source: AsyncIterable<unknown>, observer: StreamObserver): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      let inner: AsyncIterator<unknown> | undefined;
      let finished = false;
      const finish = (): boolean => {
        if (finished) return false;
        finished = true;
        return true;
      };
      const onError = (err: unknown): Promise<never> => {
        if (!finish() || observer.error === undefined) throw err;
        const out = observer.error(err);
        if (out instanceof Promise) return out.then((e: unknown) => Promise.reject(e));
        throw out;
      };
      const onResult = (r: IteratorResult<unknown>): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
        if (r.done === true) {
          const p = finish() ? observer.end?.() : undefined;
          return p instanceof Promise ? p.then(() => r) : r;
        }
        if (observer.chunk === undefined) return r;
        const mapped = observer.chunk(r.value);
        return mapped instanceof Promise ? mapped.then((value) => ({ done: false, value })) : { done: false, value: mapped };
      };
      return {
        next(): Promise<IteratorResult<unknown>> {
          if (finished) return Promise.resolve({ done: true, value: undefined });
          try {
            inner ??= source[Symbol.asyncIterator]();
            return inner.next().then(onResult, onError);
          } catch (err) {
            return Promise.reject(err).catch(onError);
          }
        },
        return(value?: unknown): Promise<IteratorResult<unknown>> {
          if (finish()) observer.cancel?.();
          const r = inner?.return?.(value);
          return r === undefined ? Promise.resolve({ done: true, value }) : r.then(() => ({ done: true, value }), () => ({ done: true, value }));
        },
      };
    },
  };
}

/** Side effects only: what a tap can hear of a stream, without changing it. */
export interface StreamTap {
  chunk?(value: unknown): void;
  end?(): void;
  error?(err: unknown): void;
  cancel?(): void;
}

/**
 * Like `observeStream`, but the consumer receives the producer's own promises: the tap listens
 * beside them (its reactions are registered first, so it has heard each outcome before the
 * consumer resumes) and adds no hop to the chunk's path. For middleware that only counts.
 */
export function tapStream(source: AsyncIterable<unknown>, tap: StreamTap): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      let inner: AsyncIterator<unknown> | undefined;
      let finished = false;
      const onResult = (r: IteratorResult<unknown>): void => {
        if (finished) return;
        try {
          if (r.done === true) {
            finished = true;
            tap.end?.();
          } else tap.chunk?.(r.value);
        } catch {
          // A faulty tap is ignored: it must neither break the stream nor go unhandled.
        }
      };
      const onError = (err: unknown): void => {
        if (finished) return;
        finished = true;
        try {
          tap.error?.(err);
        } catch {
          // A faulty tap is ignored: it must neither break the stream nor go unhandled.
        }
      };
      return {
        next(): Promise<IteratorResult<unknown>> {
          if (finished) return Promise.resolve({ done: true, value: undefined });
          let p: Promise<IteratorResult<unknown>>;
          try {
            inner ??= source[Symbol.asyncIterator]();
            p = inner.next();
          } catch (err) {
            onError(err);
            return Promise.reject(err);
          }
          p.then(onResult, onError);
          return p;
        },
        return(value?: unknown): Promise<IteratorResult<unknown>> {
          if (!finished) {
            finished = true;
            tap.cancel?.();
          }
          const r = inner?.return?.(value);
          return r === undefined ? Promise.resolve({ done: true, value }) : r.then(() => ({ done: true, value }), () => ({ done: true, value }));
        },
      };
    },
  };
}
