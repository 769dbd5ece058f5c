const RESOLVED = Promise.resolve();

/**
 * Runs `fn` on a microtask. Node's `queueMicrotask` makes an AsyncResource and a bound function
 * per call, which cost more than the rest of a worker round trip's bookkeeping; a reaction on
 * a settled promise is the same microtask without them. `fn` must not throw (it would surface
 * as an unhandled rejection, not an uncaught exception).
 */
export function onMicrotask(fn: () => void): void {
  void RESOLVED.then(fn);
}

/**
 * Runs `run(item, value)` for each pushed pair on a later microtask, all pairs pushed before it
 * runs on one: a burst of synchronous outcomes costs one microtask, not a closure and a promise
 * each. Pairs pushed while it runs go to the next batch. A throwing `run` (a bug) surfaces as an
 * uncaught exception without losing the rest of the batch.
 */
export class MicrotaskBatch<T> {
  readonly #run: (item: T, value: unknown) => void;
  #items: T[] = [];
  #values: unknown[] = [];

  constructor(run: (item: T, value: unknown) => void) {
    this.#run = run;
  }

  push(item: T, value: unknown): void {
    this.#items.push(item);
    this.#values.push(value);
    if (this.#items.length === 1) onMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    const items = this.#items;
    const values = this.#values;
    this.#items = [];
    this.#values = [];
    for (let i = 0; i < items.length; i++) {
      try {
        this.#run(items[i]!, values[i]);
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
  };
}
