import type { AbortHandle } from '../core/abort-handle.js';
import type { HandlerContext, Service } from '../core/service.js';

export type { AbortHandle };

/** The built-in pools' kinds; a `Pool` of your own may name its own. */
export type PoolKind = 'piscina' | 'tinypool' | 'inline';

/** One unit of work for a pool: which handler, with what. */
export interface PoolTask {
  readonly service: Service;
  readonly request: unknown;
  /** Made for this task alone: the pool may set its `sent` before handing it to the handler. */
  readonly ctx: HandlerContext;
  /**
   * Told the instant (`core/clock` `now()`) the task's request left the process: when the
   * handler calls `ctx.sent()`, or when the handler started if it never does.
   */
  readonly onSent?: (at: number) => void;
}

/**
 * Where a service's work runs: the contract every pool keeps (the inline pool, the worker
 * pools over piscina or tinypool, or one of your own given as `ExecutorConfig.pool`).
 * - `run` returns the handler's result (a value, or a promise of it) or rejects with its error,
 *   rebuilt into its class with its code. When `handle` aborts, the handler's signal aborts
 *   with the same reason and the promise rejects with it; a worker handler that ignores it
 *   past `abortGraceMs` is terminated.
 * - `stream` yields the handler's chunks in order with credit-based flow control; `return()`
 *   on its iterator or an abort of `handle` cancels the producer; an error after some chunks
 *   is thrown after those chunks.
 * - a crashed worker fails only the tasks it ran, with `WorkerCrashError`.
 * The pool holds the handle while the task runs, never the call.
 */
export interface Pool {
  readonly kind: string;
  /** Handlers run on the caller's thread: in-process `handler` objects (not only modules) can run. */
  readonly inProcess?: boolean;
  run(task: PoolTask, handle: AbortHandle): unknown;
  stream(task: PoolTask, handle: AbortHandle): AsyncIterable<unknown>;
  /** Starts the workers and loads these services' handler modules; resolves once done. */
  ready?(services: readonly Service[]): Promise<void>;
  /** Ends every thread, port and timer the pool holds. */
  close(): Promise<void>;
}

/** Whether `value` is a `Pool` object rather than a pool configuration. */
export function isPool(value: unknown): value is Pool {
  const v = value as Partial<Pool> | null;
  return typeof v === 'object' && v !== null && typeof v.run === 'function' && typeof v.stream === 'function' && typeof v.close === 'function';
}
