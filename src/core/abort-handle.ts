/**
 * The abort state of one call, owned by reference: whoever holds the handle (the executor,
 * a pool running the call, a middleware) reads `aborted`/`reason`, registers `onAbort`, or
 * asks for a real `signal`. The signal is made on first read: an AbortSignal and a listener on
 * it cost more in Node 20 than the rest of a small call, and most calls never need one.
 */
export class AbortHandle {
  #aborted = false;
  #reason: unknown = undefined;
  #controller: AbortController | undefined = undefined;
  /** The common case is one listener (the pool running the call): no array for it. */
  #hook: ((reason: unknown) => void) | undefined = undefined;
  #hooks: ((reason: unknown) => void)[] | undefined = undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (`undefined` until then). */
  get reason(): unknown {
    return this.#reason;
  }

  /** A real AbortSignal that follows this handle (already aborted if the handle is). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** `fn` runs once, when the handle aborts (never if it already has: check `aborted` first). */
  onAbort(fn: (reason: unknown) => void): void {
    if (this.#hook === undefined) this.#hook = fn;
    else (this.#hooks ??= []).push(fn);
  }

  offAbort(fn: (reason: unknown) => void): void {
    if (this.#hook === fn) this.#hook = undefined;
    else if (this.#hooks !== undefined) {
      const i = this.#hooks.indexOf(fn);
      if (i >= 0) this.#hooks.splice(i, 1);
    }
  }

  /** Aborts once; later calls do nothing. Listeners run in registration order. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const hook = this.#hook;
    const hooks = this.#hooks;
    this.#hook = undefined;
    this.#hooks = undefined;
    hook?.(reason);
    if (hooks !== undefined) for (const fn of hooks) fn(reason);
    this.#controller?.abort(reason);
  }

  /** A handle that follows `signal` (for code that holds a signal, not a call). */
  static from(signal: AbortSignal): AbortHandle {
    const handle = new AbortHandle();
    if (signal.aborted) handle.abort(signal.reason);
    else signal.addEventListener('abort', () => handle.abort(signal.reason), { once: true });
    return handle;
  }
}
