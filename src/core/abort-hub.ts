/**
 * A light stand-in for an AbortController and its signal in one object: `aborted`, `reason`,
 * `throwIfAborted()` and `'abort'` listeners (called without an event), nothing else. A real
 * AbortController costs an EventTarget and listener bookkeeping in Node 20, and its garbage
 * showed in profiles at thousands of calls a second; this costs one object.
 *
 * Used for one HTTP request's abort state (the caller's signal, the timeout and the idle timer
 * abort it; the wire listens, and node-fetch, which recognises a signal by its `toStringTag`,
 * takes it as its signal), and as the signal of handlers declared `abortable: 'light'`.
 */
export class AbortHub {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] = [];

  get [Symbol.toStringTag](): string {
    return 'AbortSignal';
  }

  /** Itself: the controller's signal, as `AbortController#signal` is. */
  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
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
