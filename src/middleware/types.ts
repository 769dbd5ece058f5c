import type { CallContext } from '../core/call-context.js';
import { ValidationError } from '../core/errors.js';
import type { ExecutorEvents } from '../core/events.js';
import type { Service } from '../core/service.js';
import type { ServiceCall } from '../core/service-call.js';

/** Where an invocation carries the executor's record of its call (copied by `{...inv}` and `derive`). */
export const CALL_STATE: unique symbol = Symbol('callpool.call');

/** What flows through the middleware onion for one call or stream. */
export interface Invocation {
  readonly kind: 'call' | 'stream';
  readonly service: Service;
  readonly request: unknown;
  readonly ctx: CallContext;
  /** Aborts on cancel, deadline or `close({drain:false})`. Pass it down; never replace it with a looser one. */
  readonly signal: AbortSignal;
  readonly call: ServiceCall;
  /**
   * 1 for the first attempt. A middleware that tries again (retry) passes
   * `derive(inv, { attempt: n })` (or `{...inv, attempt: n}`); every attempt after the first
   * re-enters admission at the head of the queue.
   */
  readonly attempt: number;
  /** @internal The executor's record of the call. */
  readonly [CALL_STATE]?: unknown;
}

/**
 * A copy of `inv` with `changes`, keeping its lazy `signal` lazy (`{...inv}` reads it, and
 * making an AbortSignal costs more than the rest of a small call).
 */
export function derive(inv: Invocation, changes: Partial<Omit<Invocation, typeof CALL_STATE>>): Invocation {
  if (!isRecord(inv) || !isRecord(changes)) {
    throw new ValidationError('derive() arguments', [{ path: isRecord(inv) ? '/changes' : '/inv', rule: 'type', message: 'must be an object (an invocation, and the fields to change)' }]);
  }
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(inv)) as Record<PropertyKey, unknown>;
  for (const [k, v] of Object.entries(changes)) Object.defineProperty(copy, k, { value: v, enumerable: true, configurable: true, writable: false });
  return copy as unknown as Invocation;
}

export type CallNext = (inv: Invocation) => Promise<unknown>;
export type StreamNext = (inv: Invocation) => AsyncIterable<unknown>;

/**
 * One middleware: a call side and/or a stream side. A middleware without a stream side passes
 * streams through untouched (and likewise for calls). In `compose([a, b, c])` the first listed
 * is the outermost: `a` sees the call first and the outcome last.
 */
export interface Middleware {
  readonly name: string;
  call?(inv: Invocation, next: CallNext): Promise<unknown>;
  stream?(inv: Invocation, next: StreamNext): AsyncIterable<unknown>;
  /** Called once by the executor at construction, to listen to its events. */
  attach?(events: ExecutorEvents): void;
  /** Called by `executor.close()`. */
  close?(): void | Promise<void>;
}

function isRecord(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
