import { AbortHandle } from '../core/abort-handle.js';
import { CallContext } from '../core/call-context.js';
import { now } from '../core/clock.js';
import type { Service } from '../core/service.js';
import { ServiceCall } from '../core/service-call.js';
import { keepShape, keptShape } from '../core/shapes.js';
import type { Ticket } from '../limits/types.js';
import type { CallStream } from './call-stream.js';
import type { HeapItem } from './deadline-heap.js';
import type { QueueNode } from './linked-queue.js';

/**
 * The executor's record of one accepted call: the public `ServiceCall` it settles, and the
 * bookkeeping nobody outside the executor touches (queue links, deadline heap slot, the
 * current attempt's ticket, the abort handle the pool holds while an attempt runs).
 */
export class CallEntry implements QueueNode, HeapItem {
  prev: QueueNode | undefined = undefined;
  next: QueueNode | undefined = undefined;
  inQueue = false;
  /** Read only while the entry is in the deadline heap (it has a deadline then). */
  deadline!: number;
  heapIndex = -1;
  readonly call: ServiceCall;
  #handle: AbortHandle | undefined = undefined;
  /** The limiter's ticket for the attempt admitted last. */
  ticket: Ticket = undefined;
  /** 1, then 2, 3, ... as retries re-enter admission. */
  attempt = 1;
  /** When the current attempt was admitted (monotonic). */
  admittedAt!: number;
  /** A retry attempt waiting at the head of the queue since `at`: told when it is admitted. */
  readmit: { at: number; resolve: (ticket: Ticket) => void; reject: (err: unknown) => void } | undefined = undefined;
  /** The caller's signal and our listener on it, removed when the call settles. */
  userAbort: { signal: AbortSignal; listener: () => void } | undefined = undefined;
  /** Why the limiter last said no while this attempt was the head of the queue. */
  deferReason: string | undefined = undefined;
  stream: CallStream | undefined = undefined;

  constructor(
    readonly service: Service,
    readonly request: unknown,
    ctx: CallContext,
    tokens: number,
    createdAt: number,
  ) {
    this.call = new ServiceCall(service.name, ctx, tokens, createdAt);
  }

  get ctx(): CallContext {
    return this.call.ctx;
  }

  /** Estimated tokens charged at admission. */
  get tokens(): number {
    return this.call.tokens;
  }

  /** The abort handle a running attempt's pool holds; made at first use (a queued call needs none). */
  get handle(): AbortHandle {
    return (this.#handle ??= new AbortHandle());
  }

  /** Aborts the running attempt, if one ever ran. */
  abort(reason: unknown): void {
    this.#handle?.abort(reason);
  }

  get kind(): 'call' | 'stream' {
    return this.stream === undefined ? 'call' : 'stream';
  }

  /** Holding a concurrency slot (admitted, not yet settled). */
  get running(): boolean {
    return this.call.status === 'EXECUTING';
  }

  get settled(): boolean {
    return this.call.settled;
  }
}

// Its maps, and its ServiceCall's, outlive idle periods (see core/shapes.ts).
keepShape(keepShape(new CallEntry({ name: 'shape' } as Service, undefined, keptShape(CallContext) as CallContext, 0, now())).call);
