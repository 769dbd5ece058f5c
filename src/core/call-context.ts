import { randomUUID } from 'node:crypto';
import { now, toEpoch, fromEpoch } from './clock.js';
import { DeadlineExceededError, ValidationError } from './errors.js';
import { CallContextOptionsSchema, type CallContextData, type CallContextOptions } from './schemas.js';
import { keepShape } from './shapes.js';
import { setLongTimeout } from './timers.js';
import { assertValid, compile } from './validate.js';

const checkOptions = compile(CallContextOptionsSchema, { lazy: true });
const EMPTY: readonly string[] = Object.freeze([]);
const NO_ATTRS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Who is calling, until when, and with which rights. Immutable. The deadline is an absolute
 * instant on the monotonic clock (`performance.now()`), so it covers the call's whole life:
 * queue wait, rate-limit wait, retries and run time.
 */
export class CallContext {
  readonly callId: string;
  readonly branchId: string;
  /** Absolute deadline on the `performance.now()` clock, or `undefined` for none. */
  readonly deadline: number | undefined;
  readonly capabilities: readonly string[];
  readonly attrs: Readonly<Record<string, unknown>>;
  #signal: AbortSignal | undefined;

  static {
    // Its maps outlive idle periods (see core/shapes.ts). Built directly: `new()` would compile
    // its options schema at import.
    keepShape(new CallContext('shape', 'shape', undefined, EMPTY, NO_ATTRS));
  }

  private constructor(callId: string, branchId: string, deadline: number | undefined, capabilities: readonly string[], attrs: Readonly<Record<string, unknown>>) {
    this.callId = callId;
    this.branchId = branchId;
    this.deadline = deadline;
    this.capabilities = capabilities;
    this.attrs = attrs;
    Object.freeze(this);
  }

  /**
   * A context with no deadline unless one is given. Deadlines are finite: NaN and ±Infinity
   * are refused (for no deadline, leave both options out); a far one costs nothing.
   * @param options.deadlineMs absolute deadline on the `performance.now()` clock (finite)
   * @param options.timeoutMs deadline relative to now (the same as `withTimeout`; finite, > 0)
   * @throws ValidationError (`E_VALIDATION`) naming the field, for a non-string `branchId` or bad options
   * @example CallContext.new('branch-1', { capabilities: ['net.out:*'] })
   */
  static new(branchId: string, options: CallContextOptions = {}): CallContext {
    if (typeof branchId !== 'string') {
      throw new ValidationError('CallContext branch id', [{ path: '/branchId', rule: 'type', message: `must be a string, got ${branchId === null ? 'null' : typeof branchId}` }]);
    }
    assertValid(checkOptions, options, 'CallContext options');
    let deadline = options.deadlineMs;
    if (options.timeoutMs !== undefined) {
      const rel = now() + options.timeoutMs;
      deadline = deadline === undefined ? rel : Math.min(deadline, rel);
    }
    return new CallContext(
      options.callId ?? randomUUID(),
      branchId,
      deadline,
      options.capabilities ? Object.freeze([...options.capabilities]) : EMPTY,
      options.attrs ? Object.freeze({ ...options.attrs }) : NO_ATTRS,
    );
  }

  /** A context whose deadline is `timeoutMs` (finite, > 0) from now. */
  static withTimeout(branchId: string, timeoutMs: number, options: Omit<CallContextOptions, 'timeoutMs'> = {}): CallContext {
    if (typeof options !== 'object' || options === null) {
      throw new ValidationError('CallContext options', [{ path: '/', rule: 'type', message: 'must be object' }]);
    }
    return CallContext.new(branchId, { ...options, timeoutMs });
  }

  /** Rebuilds a context that crossed a thread (`toJSON`); the deadline is converted clock to clock. */
  static fromJSON(data: CallContextData): CallContext {
    return new CallContext(
      data.callId,
      data.branchId,
      data.deadlineEpochMs === null ? undefined : fromEpoch(data.deadlineEpochMs),
      Object.freeze([...data.capabilities]),
      Object.freeze({ ...data.attrs }),
    );
  }

  /** Milliseconds left before the deadline (`Infinity` with none, never negative). */
  remainingMs(at: number = now()): number {
    return this.deadline === undefined ? Infinity : Math.max(0, this.deadline - at);
  }

  get expired(): boolean {
    return this.deadline !== undefined && now() >= this.deadline;
  }

  /**
   * A signal that aborts at the deadline with a `DeadlineExceededError` (never, with none).
   * Created on first use; its timer is unref'd so it never holds the process open.
   */
  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      const controller = new AbortController();
      if (this.deadline !== undefined) {
        const left = this.deadline - now();
        if (left <= 0) controller.abort(new DeadlineExceededError('running'));
        else setLongTimeout(() => controller.abort(new DeadlineExceededError('running')), left, { unref: true });
      }
      this.#signal = controller.signal;
    }
    return this.#signal;
  }

  /** A copy with other capabilities or attributes; same call id and deadline. */
  with(changes: { capabilities?: readonly string[]; attrs?: Record<string, unknown> }): CallContext {
    return new CallContext(
      this.callId,
      this.branchId,
      this.deadline,
      changes.capabilities ? Object.freeze([...changes.capabilities]) : this.capabilities,
      changes.attrs ? Object.freeze({ ...changes.attrs }) : this.attrs,
    );
  }

  toJSON(): CallContextData {
    return {
      callId: this.callId,
      branchId: this.branchId,
      deadlineEpochMs: this.deadline === undefined ? null : toEpoch(this.deadline),
      capabilities: [...this.capabilities],
      attrs: { ...this.attrs },
    };
  }
}
