import type { CallContext } from '../core/call-context.js';
import type { Service } from '../core/service.js';
import { ServiceCall } from '../core/service-call.js';
import type { Ticket } from '../limits/types.js';
import type { AbortSource } from '../pool/types.js';
import type { CallStream } from './call-stream.js';
import type { HeapItem } from './deadline-heap.js';
import type { QueueNode } from './linked-queue.js';

/**
 * A ServiceCall together with the executor's bookkeeping for it (queue links, deadline heap
 * slot, limiter ticket, abort state): one object per call on the hot path.
 */
export class QueuedCall<T = unknown> extends ServiceCall<T> implements QueueNode, HeapItem, AbortSource {
  prev: QueueNode | undefined = undefined;
  next: QueueNode | undefined = undefined;
  inQueue = false;
  deadline = Infinity;
  heapIndex = -1;
  ticket: Ticket = undefined;
  /** The limiter was told when `ticket`'s request left (Limiter.sent): report it once. */
  ticketSent = false;
  /** Made on first use of the call's signal (an AbortSignal costs microseconds to create). */
  controller: AbortController | undefined = undefined;
  /** Set once the call is aborted, even if no signal was made yet. */
  abortReason: unknown = undefined;
  /** Set by a worker pool while it runs this call: how to abort it there. */
  onAbort: ((reason: unknown) => void) | undefined = undefined;
  /** The caller's signal and our listener on it, removed when the call settles. */
  userAbort: { signal: AbortSignal; listener: () => void } | undefined = undefined;
  /** Why the limiter last said no while this call was the head of the queue. */
  deferReason: string | undefined = undefined;
  stream: CallStream | undefined = undefined;

  constructor(
    readonly svc: Service,
    readonly request: unknown,
    ctx: CallContext,
    tokens: number,
    createdAt: number,
  ) {
    super(svc.name, ctx, tokens, createdAt);
  }

  get kind(): 'call' | 'stream' {
    return this.stream === undefined ? 'call' : 'stream';
  }

  /** Holding a concurrency slot (admitted, not yet settled). */
  get running(): boolean {
    return this.status === 'EXECUTING';
  }

  /** The call's abort signal, made on first use (already aborted if the call was). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
    const hook = this.onAbort;
    this.onAbort = undefined;
    hook?.(reason);
  }
}
