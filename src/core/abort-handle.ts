import { AbortHub } from './abort-hub.js';
import { isAbortSignal } from './call-options.js';
import { ValidationError } from './errors.js';
import { keepShape } from './shapes.js';

/**
 * The abort state of one call, owned by reference: whoever holds the handle (the executor,
 * a pool running the call, a middleware) reads `aborted`/`reason`, registers `onAbort`, or
 * asks for a real `signal`. The signal is made on first read: an AbortSignal and a listener on
 * it cost more in Node 20 than the rest of a small call, and most calls never need one.
 */
type Hook = (reason: unknown) => void;

/** `reason` before an abort (an abort may carry `undefined` as its reason). */
const NOT_ABORTED: unique symbol = Symbol('not aborted');

export class AbortHandle {
  #reason: unknown = NOT_ABORTED;
  #controller: AbortController | undefined = undefined;
  #light: AbortHub | undefined = undefined;
  /** The common case is one listener (the pool running the call): no array for it. */
  #hooks: Hook | Hook[] | undefined = undefined;

  get aborted(): boolean {
    return this.#reason !== NOT_ABORTED;
  }

  /** Why it was aborted (`undefined` until then). */
  get reason(): unknown {
    return this.#reason === NOT_ABORTED ? undefined : this.#reason;
  }

  /** A real AbortSignal that follows this handle (already aborted if the handle is). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /**
   * The light stand-in for `signal` (see `AbortHub`), for handlers declared
   * `abortable: 'light'`: it follows this handle, and costs one object instead of an AbortController.
   */
  get lightSignal(): AbortSignal {
    if (this.#light === undefined) {
      this.#light = new AbortHub();
      if (this.aborted) this.#light.abort(this.#reason);
    }
    return this.#light.signal;
  }

  /** `fn` runs once, when the handle aborts (never if it already has: check `aborted` first). */
  onAbort(fn: Hook): void {
    const h = this.#hooks;
    if (h === undefined) this.#hooks = fn;
    else if (typeof h === 'function') this.#hooks = [h, fn];
    else h.push(fn);
  }

  offAbort(fn: Hook): void {
    const h = this.#hooks;
    if (h === fn) this.#hooks = undefined;
    else if (Array.isArray(h)) {
      const i = h.indexOf(fn);
      if (i >= 0) h.splice(i, 1);
    }
  }

  /** Aborts once; later calls do nothing. Listeners run in registration order. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.#reason = reason;
    const h = this.#hooks;
    this.#hooks = undefined;
    if (typeof h === 'function') h(reason);
    else if (h !== undefined) for (const fn of h) fn(reason);
    this.#light?.abort(reason);
    this.#controller?.abort(reason);
  }

  /**
   * A handle that follows `signal` (for code that holds a signal, not a call). It listens on
   * `signal` until that aborts: for a signal that outlives many calls, give each call a
   * `new AbortHandle()` and abort those from one listener of your own.
   */
  static from(signal: AbortSignal): AbortHandle {
    if (!isAbortSignal(signal)) throw new ValidationError('AbortHandle.from() argument', [{ path: '/signal', rule: 'instanceOf', message: 'must be an AbortSignal' }]);
    const handle = new AbortHandle();
    if (signal.aborted) handle.abort(signal.reason);
    else signal.addEventListener('abort', () => handle.abort(signal.reason), { once: true });
    return handle;
  }
}

keepShape(new AbortHandle());
