import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from '../core/errors.js';
import type { HandlerContext } from '../core/service.js';

/**
 * The typed protocol between the main thread and a pool worker. Two kinds of channel:
 * - one control channel per worker, carrying calls, stream openings and cancels one way, and
 *   results and errors the other; every post is an array (a batch of one or many messages);
 * - one channel per stream, carrying chunk batches one way and credit or cancel the other.
 */

/** Handed to the worker entry as its task: the control port it serves until told to close. */
export interface SessionStart {
  port: MessagePort;
  /**
   * Shared memory where the worker records, at `RECEIVED`, the id of the last call it took
   * from its port (ids count up per session): when the worker dies, calls with a higher id
   * never ran and can go to another worker without running twice; and at `HANDLER_STARTED`
   * the id of the last call whose handler it invoked (written before the handler runs, so the
   * main thread sees it even while a handler holds the worker's thread); at `ACTIVE` how many
   * handlers have started and not finished.
   */
  progress: Float64Array;
  /** How long (µs) the worker polls its port for the next call when it runs out of work. */
  idleSpinUs: number;
}

/**
 * Control messages are tuples tagged by an `Op`, not objects: structured clone writes every
 * property name of every object it copies: with object messages a no-op call's round trip
 * was about 25% slower than a raw channel's, with tuples about 3% (same run, medians).
 */
export const Op = {
  Call: 0,
  Stream: 1,
  Cancel: 2,
  Close: 3,
  Ready: 4,
  Result: 5,
  Packed: 6,
  Error: 7,
  Done: 8,
} as const;

/** A HandlerContext, flattened in field order (rebuilt in the worker). */
export type WireContext = [
  callId: string,
  branchId: string,
  deadlineEpochMs: number | null,
  capabilities: string[],
  attrs: Record<string, unknown>,
  options: unknown,
];

export type CallRequest = [op: typeof Op.Call, id: number, module: string, request: unknown, ...ctx: WireContext];

export type StreamRequest = [
  op: typeof Op.Stream,
  id: number,
  module: string,
  request: unknown,
  ...ctx: WireContext,
  /** The stream's own port (transferred): chunks go out on it, credit and cancel come in. */
  port: MessagePort,
  /** Chunks the producer may send before it waits for credit. */
  credit: number,
];

/** The slots of `SessionStart.progress`. */
export const Progress = { RECEIVED: 0, HANDLER_STARTED: 1, ACTIVE: 2, SIZE: 3 } as const;

/** Where a message's id sits (both ways), and a stream request's port and credit. */
export const ID = 1;
export const STREAM_PORT = 10;
export const STREAM_CREDIT = 11;

/**
 * Aborts the handler's signal for a running call, with the caller's abort reason, so the
 * handler's `signal.reason` tells the same story.
 */
export type CancelRequest = [op: typeof Op.Cancel, id: number, reason: SerializedError | undefined];

/** Ends the session: in-flight handlers are aborted and the worker returns to the pool. */
export type CloseRequest = [op: typeof Op.Close];

export type ToWorker = CallRequest | StreamRequest | CancelRequest | CloseRequest;

/** The session is serving (sent once, first). */
export type Ready = [op: typeof Op.Ready, threadId: number];

/** The handler's value, as structured clone carries it. */
export type CallResult = [op: typeof Op.Result, id: number, value: unknown];

/** The handler's value as msgpack bytes (buffer transferred), when the codec chose that. */
export type PackedResult = [op: typeof Op.Packed, id: number, bytes: Uint8Array];

/** The call failed. */
export type CallError = [op: typeof Op.Error, id: number, error: SerializedError];

/** A stream's producer finished (ended, failed or cancelled): its id is free again. */
export type StreamDone = [op: typeof Op.Done, id: number];

export type FromWorker = Ready | CallResult | PackedResult | CallError | StreamDone;

/**
 * A call request. Built with `Array.of`, not a literal: in runs of sequential calls V8 decided
 * to pretenure the allocation site of the literal (and of the pending record's object literal;
 * `--trace-pretenuring-statistics`), so every call's objects went straight to the old
 * generation. Young GCs then took about 10 ms instead of under 1 ms, a tenth of the main
 * thread, until the next full GC. Built this way neither was pretenured.
 */
export function callRequest(module: string, request: unknown, ctx: HandlerContext): CallRequest {
  return Array.of<unknown>(Op.Call, 0, module, request, ctx.callId, ctx.branchId, ctx.deadlineEpochMs, ctx.capabilities, ctx.attrs, ctx.options) as CallRequest;
}

/** A stream request (built like `callRequest`). */
export function streamRequest(module: string, request: unknown, ctx: HandlerContext, port: MessagePort, credit: number): StreamRequest {
  return Array.of<unknown>(Op.Stream, 0, module, request, ctx.callId, ctx.branchId, ctx.deadlineEpochMs, ctx.capabilities, ctx.attrs, ctx.options, port, credit) as StreamRequest;
}

/** The handler context of a call or stream request. */
export function contextOf(msg: CallRequest | StreamRequest): HandlerContext {
  return { callId: msg[4], branchId: msg[5], deadlineEpochMs: msg[6], capabilities: msg[7], attrs: msg[8], options: msg[9] };
}

/** Worker -> main on a stream port: some chunks, and maybe the end or the failure. */
export interface StreamChunks {
  t: 'chunks';
  values: unknown[];
  /** Set on the last message: the stream ended after these chunks. */
  end?: true;
  /** Set on the last message: the stream failed after these chunks. */
  error?: SerializedError;
}

/** Main -> worker on a stream port: the consumer took `n` chunks; the producer may send `n` more. */
export interface StreamCredit {
  t: 'credit';
  n: number;
}

/** Main -> worker on a stream port: stop producing. */
export interface StreamCancel {
  t: 'cancel';
  reason?: SerializedError;
}

export type StreamToMain = StreamChunks;
export type StreamToWorker = StreamCredit | StreamCancel;
