import { now } from './clock.js';
import { CallContext } from './call-context.js';
import { CallpoolError, ValidationError } from './errors.js';
import type { ServiceCallData } from './schemas.js';

export const CallStatus = {
  PENDING: 'PENDING',
  QUEUED: 'QUEUED',
  EXECUTING: 'EXECUTING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type CallStatus = (typeof CallStatus)[keyof typeof CallStatus];

const allowed: Record<CallStatus, readonly CallStatus[]> = {
  PENDING: ['QUEUED', 'FAILED', 'CANCELLED'],
  QUEUED: ['EXECUTING', 'FAILED', 'CANCELLED'],
  EXECUTING: ['COMPLETED', 'FAILED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

/** Thrown on a status change the state machine forbids: always a bug in callpool. */
export class IllegalTransitionError extends Error {
  constructor(readonly from: CallStatus, readonly to: CallStatus, readonly callId: string) {
    super(`illegal ServiceCall transition ${from} -> ${to} (call ${callId})`);
    this.name = 'IllegalTransitionError';
  }
}

/**
 * One accepted call: its status (PENDING → QUEUED → EXECUTING → COMPLETED | FAILED | CANCELLED),
 * the monotonic timestamps of each step, and the promise of its outcome. It settles exactly once.
 */
export class ServiceCall<T = unknown> {
  readonly service: string;
  readonly ctx: CallContext;
  /** Estimated tokens charged to the token limiter at admission. */
  readonly tokens: number;
  readonly createdAt: number;
  queuedAt: number | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;
  #status: CallStatus = CallStatus.PENDING;
  /** The result once COMPLETED, the error once FAILED or CANCELLED. */
  #outcome: unknown;
  /** Made on the first `result()`, so a call nobody awaits costs no promise (and no unhandled rejection). */
  #promise: Promise<T> | undefined;
  /**
   * The pending promise's resolve function. Its `reject` is not kept: a rejection settles by
   * resolving with a rejected promise, and a queued call holds one function less (about 56 bytes).
   */
  #resolve: ((v: T | PromiseLike<T>) => void) | undefined;

  /** @throws ValidationError (`E_VALIDATION`) when `ctx` is not a CallContext */
  constructor(service: string, ctx: CallContext, tokens: number, createdAt: number = now()) {
    if (!(ctx instanceof CallContext)) throw new ValidationError('call context', [{ path: '/ctx', rule: 'instanceOf', message: 'must be a CallContext (CallContext.new or CallContext.withTimeout)' }]);
    this.service = service;
    this.ctx = ctx;
    this.tokens = tokens;
    this.createdAt = createdAt;
  }

  /** The call's id: its context's `callId` (read through, so a queued call keeps one field less). */
  get id(): string {
    return this.ctx.callId;
  }

  get status(): CallStatus {
    return this.#status;
  }

  get settled(): boolean {
    return this.#status === 'COMPLETED' || this.#status === 'FAILED' || this.#status === 'CANCELLED';
  }

  /** The error a FAILED or CANCELLED call ended with. */
  get error(): unknown {
    return this.#status === 'COMPLETED' ? undefined : this.#outcome;
  }

  /** Resolves with the result or rejects with the error; the same promise every time. */
  result(): Promise<T> {
    if (this.#promise === undefined) {
      if (this.#status === 'COMPLETED') this.#promise = Promise.resolve(this.#outcome as T);
      else if (this.#status === 'FAILED' || this.#status === 'CANCELLED') this.#promise = Promise.reject(this.#outcome);
      else {
        this.#promise = new Promise<T>((resolve) => {
          this.#resolve = resolve;
        });
      }
    }
    return this.#promise;
  }

  /** Time spent waiting in the queue (ms), once admitted. */
  get queueWaitMs(): number | undefined {
    return this.startedAt === undefined || this.queuedAt === undefined ? undefined : this.startedAt - this.queuedAt;
  }

  /** @internal */
  markQueued(at: number = now()): void {
    this.#to(CallStatus.QUEUED);
    this.queuedAt = at;
  }

  /** @internal */
  markExecuting(at: number = now()): void {
    this.#to(CallStatus.EXECUTING);
    this.startedAt = at;
  }

  /** @internal */
  complete(value: T, at: number = now()): void {
    this.#to(CallStatus.COMPLETED);
    this.endedAt = at;
    this.#outcome = value;
    this.#resolve?.(value);
  }

  /** @internal */
  fail(error: unknown, status: 'FAILED' | 'CANCELLED' = CallStatus.FAILED, at: number = now()): void {
    this.#to(status);
    this.endedAt = at;
    this.#outcome = error;
    this.#resolve?.(Promise.reject(error));
  }

  #to(next: CallStatus): void {
    if (!allowed[this.#status].includes(next)) throw new IllegalTransitionError(this.#status, next, this.id);
    this.#status = next;
  }

  toJSON(): ServiceCallData {
    const e = this.error;
    return {
      id: this.id,
      service: this.service,
      branchId: this.ctx.branchId,
      status: this.#status,
      createdAt: this.createdAt,
      queuedAt: this.queuedAt ?? null,
      startedAt: this.startedAt ?? null,
      endedAt: this.endedAt ?? null,
      tokens: this.tokens,
      error:
        e === undefined
          ? null
          : { code: e instanceof CallpoolError ? e.code : String((e as { code?: unknown }).code ?? 'E_HANDLER'), message: e instanceof Error ? e.message : String(e) },
    };
  }
}
