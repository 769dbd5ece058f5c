/**
 * One request's abort state: the caller's signal, the timeout and the idle timer all abort it,
 * and the wire (undici's abort function, or node-fetch, which takes it as its signal) listens.
 * node-fetch recognises a signal by its `toStringTag` and only reads `aborted` and adds and
 * removes one 'abort' listener; a real AbortController costs an EventTarget and listener
 * bookkeeping per request in Node 20, this costs one object. Never given to user code.
 */
export class AbortHub {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] = [];

  get [Symbol.toStringTag](): string {
    return 'AbortSignal';
  }

  addEventListener(type: string, listener: () => void): void {
    if (type === 'abort' && !this.aborted) this.#listeners.push(listener);
  }

  removeEventListener(type: string, listener: () => void): void {
    if (type !== 'abort') return;
    const i = this.#listeners.indexOf(listener);
    if (i !== -1) this.#listeners.splice(i, 1);
  }

  /** Aborts once; later calls keep the first reason. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const l of listeners) l();
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }
}
