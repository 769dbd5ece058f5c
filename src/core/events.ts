import type { CallContext } from './call-context.js';

/** Events the executor emits as things happen; middleware (hooks, metrics) and users listen. */
export interface ExecutorEventMap {
  /** A submit was refused because the queue was full. */
  queueFull: { service: string; capacity: number; ctx: CallContext };
  /** The head of the queue must wait for rate capacity (emitted once per wait). */
  rateLimited: { service: string; callId: string; ctx: CallContext; waitMs: number; reason: string; /** 1 for the first attempt, 2+ for retries. */ attempt: number };
  /** An attempt left the queue (concurrency slot and rate capacity held): a call's first, or a retry. */
  admitted: { service: string; callId: string; /** Monotonic admission instant (the limiter's own). */ at: number; queueWaitMs: number; /** 1 for the first attempt, 2+ for retries. */ attempt: number };
  /** A call or stream settled. */
  settled: { service: string; callId: string; status: 'COMPLETED' | 'FAILED' | 'CANCELLED'; runMs: number; error?: unknown };
}
export type ExecutorEventName = keyof ExecutorEventMap;

export interface ExecutorEvents {
  on<K extends ExecutorEventName>(event: K, listener: (e: ExecutorEventMap[K]) => void): unknown;
  off<K extends ExecutorEventName>(event: K, listener: (e: ExecutorEventMap[K]) => void): unknown;
}

export type ExecutorListeners = { [K in ExecutorEventName]?: (e: ExecutorEventMap[K]) => void };

/** Listens to several executor events at once; returns the function that stops them all. */
export function listen(events: ExecutorEvents, listeners: ExecutorListeners): () => void {
  const pairs = Object.entries(listeners) as [ExecutorEventName, (e: unknown) => void][];
  for (const [event, listener] of pairs) events.on(event, listener);
  return () => {
    for (const [event, listener] of pairs) events.off(event, listener);
  };
}
