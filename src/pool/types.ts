import type { HandlerContext, Service } from '../core/service.js';

/**
 * A cheaper stand-in for an `AbortSignal` on the executor's hot path (making an AbortSignal
 * and listening on it costs more in Node 20 than the rest of a worker round trip): while the
 * work runs the pool sets `onAbort`; the owner calls it once if the work is aborted.
 */
export interface AbortSource {
  /** Set once aborted. */
  readonly abortReason: unknown;
  onAbort: ((reason: unknown) => void) | undefined;
}

export type PoolKind = 'piscina' | 'tinypool' | 'inline';

/** One unit of work for a pool: which handler, with what. */
export interface PoolTask {
  readonly service: Service;
  readonly request: unknown;
  readonly ctx: HandlerContext;
}

/**
 * Where a service's work runs. Every backend has the same semantics:
 * - `call` settles exactly once; an abort of `signal` reaches the handler's signal, and a
 *   handler that ignores it past the grace period is terminated (the promise rejects with the
 *   signal's reason).
 * - `stream` yields the handler's chunks in order with credit-based flow control; `return()`
 *   on its iterator or an abort of `signal` cancels the producer; an error after some chunks is
 *   thrown after those chunks.
 * - handler errors are rebuilt into their class (code kept); a crashed worker fails only the
 *   tasks it ran, with `WorkerCrashError`.
 */
export interface Pool {
  readonly kind: PoolKind;
  call(task: PoolTask, signal: AbortSignal): Promise<unknown>;
  stream(task: PoolTask, signal: AbortSignal): AsyncIterable<unknown>;
  /** Ends every thread, port and timer the pool holds. */
  close(): Promise<void>;
}
