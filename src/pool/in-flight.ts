import type { MessagePort } from 'node:worker_threads';
import { AbortHandle } from '../core/abort-handle.js';
import { noop } from '../core/noop.js';
import { keepShape } from '../core/shapes.js';
import type { Outbox } from './outbox.js';
import type { PendingTable } from './pending-table.js';
import type { CallRequest, StreamRequest, ToWorker } from './protocol.js';
import type { StreamChannel } from './stream-channel.js';

/**
 * What a call or stream in flight carries. Classes, like the request tuples built in
 * protocol.ts without a literal: V8 pretenured the object literals these used to be (see
 * `callRequest`).
 */
export abstract class InFlight {
  /** Where it runs now, under which id (ids count up per worker session). */
  slot!: Slot;
  id = 0;
  /** Cancelled or settled from this side; the handler has yet to finish. */
  orphaned = false;
  grace: NodeJS.Timeout | undefined = undefined;
  /** Aborted before its worker said ready: the grace period starts when it does. */
  graceDeferred = false;
}

export class PendingCall extends InFlight {
  readonly kind = 'call';
  /** What this call registered on its handle (a retry registers its own). */
  readonly onAbort: (reason: unknown) => void;

  constructor(
    readonly msg: CallRequest,
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: unknown) => void,
    readonly handle: AbortHandle,
    readonly onSent: ((at: number) => void) | undefined,
    abort: (p: PendingCall, reason: unknown) => void,
  ) {
    super();
    this.onAbort = (reason) => abort(this, reason);
  }
}

export class PendingStream extends InFlight {
  readonly kind = 'stream';
  channel!: StreamChannel;

  constructor(
    readonly msg: StreamRequest,
    readonly onSent: ((at: number) => void) | undefined,
  ) {
    super();
  }
}

// Its maps outlive idle periods (see core/shapes.ts).
keepShape(new PendingCall([] as unknown as CallRequest, noop, noop, new AbortHandle(), undefined, noop));

export type Pending = PendingCall | PendingStream;

/** One worker's session: its control port, what runs there, and the switch that kills it. */
export interface Slot {
  index: number;
  port: MessagePort;
  outbox: Outbox<ToWorker>;
  inflight: PendingTable<Pending>;
  /** Written by the worker: see `SessionStart.progress`. */
  progress: Float64Array;
  nextId: number;
  kill: AbortController;
  ready: boolean;
  dead: boolean;
  /** Its port closed: the worker's thread is gone. */
  exited: boolean;
  /** Being terminated because an aborted handler outlived its grace period. */
  overdue: boolean;
  /** Why the worker died, once known. */
  crash: unknown;
  /** Told when the session says ready or the worker dies (`ready()` waits here). */
  waiting: (() => void)[];
  /** Module loads asked for by `ready()`, by id. */
  loads: Map<number, () => void>;
}
