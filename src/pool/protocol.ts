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
   * main thread sees it even while a handler holds the worker's thread); and which handlers
   * are running (see `handlerStarted`).
   */
  progress: Float64Array;
  /** How long (µs) the worker polls its port for the next call when it runs out of work. */
  idleSpinUs: number;
}

/**
 * Control messages are tuples tagged by an `Op`, not objects: structured clone writes every
 * property name of every object it copies: with object messages a no-op call's round trip
 * was about 25% slower than a raw channel's, with tuples about 3% (same run, medians). Every
 * slot has a name below and code reads tuples through those names, except the tag: slot 0 of
 * every message is its `Op`, read as `msg[0]` because TypeScript narrows a union of tuples
 * only on a literal index.
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
  Sent: 9,
  Load: 10,
} as const;

/**
 * The slots of `SessionStart.progress`. From `RUNNING` on, a ring where a running handler's id
 * sits at `RUNNING + (id & RUNNING_MASK)` from its start to its end; one that finds its place
 * taken by another still running (more than `RUNNING_MASK` ids in flight) is counted at
 * `UNLISTED` instead.
 */
export const Progress = { RECEIVED: 0, HANDLER_STARTED: 1, UNLISTED: 2, RUNNING: 3, RUNNING_MASK: 1023, SIZE: 3 + 1024 } as const;

/** Written by the worker as a handler starts (before it runs, so it shows while one holds the thread). */
export function handlerStarted(progress: Float64Array, id: number): void {
  // Monotonic: handlers whose modules load at different speeds start out of id order.
  progress[Progress.HANDLER_STARTED] = Math.max(progress[Progress.HANDLER_STARTED]!, id);
  const at = Progress.RUNNING + (id & Progress.RUNNING_MASK);
  if (progress[at] === 0) progress[at] = id;
  else progress[Progress.UNLISTED]! += 1;
}

/** Written by the worker as a handler that started finishes. */
export function handlerFinished(progress: Float64Array, id: number): void {
  const at = Progress.RUNNING + (id & Progress.RUNNING_MASK);
  if (progress[at] === id) progress[at] = 0;
  else progress[Progress.UNLISTED]! -= 1;
}

/**
 * Whether call `id`'s handler may still be running, read by the main thread. Exact while every
 * running handler is listed: a finished one whose answer is still on its way, or one finishing
 * beside another still running, is not mistaken for one that ignores its abort. With some
 * unlisted, any handler from `id` on having started counts.
 */
export function handlerRunning(progress: Float64Array, id: number): boolean {
  if (progress[Progress.RUNNING + (id & Progress.RUNNING_MASK)] === id) return true;
  return progress[Progress.UNLISTED]! > 0 && progress[Progress.HANDLER_STARTED]! >= id;
}

/** The slots of a call or stream request (a stream's two extra slots at the end). */
export const Req = {
  OP: 0,
  ID: 1,
  MODULE: 2,
  REQUEST: 3,
  CALL_ID: 4,
  BRANCH_ID: 5,
  DEADLINE_EPOCH_MS: 6,
  CAPABILITIES: 7,
  ATTRS: 8,
  OPTIONS: 9,
  /** `Flag` bits. */
  FLAGS: 10,
  /** A stream's own port (transferred): chunks go out on it, credit and cancel come in. */
  PORT: 11,
  /** Chunks a stream's producer may send before it waits for credit. */
  CREDIT: 12,
} as const;

/** Bits of a request's `FLAGS` slot. */
export const Flag = {
  /** Report the instant the request leaves (`Sent`); without it nobody listens. */
  REPORT_SENT: 1,
  /** The service's handler never reads its signal (`abortable: false`): it gets a shared one. */
  NO_SIGNAL: 2,
  /** The service's handler only checks and listens to its signal (`abortable: 'light'`). */
  LIGHT_SIGNAL: 4,
} as const;

/** The slots of every worker -> main message but `Ready`, and of a `Cancel`. */
export const Reply = {
  OP: 0,
  ID: 1,
  /** Result: the value; Packed: the msgpack bytes; Error: the serialized error; Sent: the epoch ms; Cancel: the reason. */
  PAYLOAD: 2,
} as const;

export type CallRequest = [
  op: typeof Op.Call,
  id: number,
  module: string,
  request: unknown,
  callId: string,
  branchId: string,
  deadlineEpochMs: number | null,
  capabilities: string[],
  attrs: Record<string, unknown>,
  options: unknown,
  flags: number,
];

export type StreamRequest = [
  op: typeof Op.Stream,
  id: number,
  module: string,
  request: unknown,
  callId: string,
  branchId: string,
  deadlineEpochMs: number | null,
  capabilities: string[],
  attrs: Record<string, unknown>,
  options: unknown,
  flags: number,
  port: MessagePort,
  credit: number,
];

/**
 * Aborts the handler's signal for a running call, with the caller's abort reason, so the
 * handler's `signal.reason` tells the same story.
 */
export type CancelRequest = [op: typeof Op.Cancel, id: number, reason: SerializedError | undefined];

/** Ends the session: in-flight handlers are aborted and the worker returns to the pool. */
export type CloseRequest = [op: typeof Op.Close];

/** Load a handler module now (warm-up before the first call); answered by `Done` with this id. */
export type LoadRequest = [op: typeof Op.Load, id: number, module: string];

export type ToWorker = CallRequest | StreamRequest | CancelRequest | CloseRequest | LoadRequest;

/** The session is serving (sent once, first). */
export type Ready = [op: typeof Op.Ready, threadId: number];

/** The handler's value, as structured clone carries it. */
export type CallResult = [op: typeof Op.Result, id: number, value: unknown];

/** The handler's value as msgpack bytes (buffer transferred), when the codec chose that. */
export type PackedResult = [op: typeof Op.Packed, id: number, bytes: Uint8Array];

/** The call failed. */
export type CallError = [op: typeof Op.Error, id: number, error: SerializedError];

/** A stream's producer finished (ended, failed or cancelled), or a `Load` is done: its id is free again. */
export type StreamDone = [op: typeof Op.Done, id: number];

/** The request of a call or stream left the process at this epoch ms (`ctx.sent()`, or handler start). */
export type SentReport = [op: typeof Op.Sent, id: number, atEpochMs: number];

export type FromWorker = Ready | CallResult | PackedResult | CallError | StreamDone | SentReport;

/**
 * A call request. Built with `Array.of`, not a literal: in runs of sequential calls V8 decided
 * to pretenure the allocation site of the literal (and of the pending record's object literal;
 * `--trace-pretenuring-statistics`), so every call's objects went straight to the old
 * generation. Young GCs then took about 10 ms instead of under 1 ms, a tenth of the main
 * thread, until the next full GC. Built this way neither was pretenured. The argument order
 * is the slot order of `Req`.
 */
export function callRequest(module: string, request: unknown, ctx: HandlerContext, flags: number): CallRequest {
  return Array.of<unknown>(Op.Call, 0, module, request, ctx.callId, ctx.branchId, ctx.deadlineEpochMs, ctx.capabilities, ctx.attrs, ctx.options, flags) as CallRequest;
}

/** A stream request (built like `callRequest`). */
export function streamRequest(module: string, request: unknown, ctx: HandlerContext, flags: number, port: MessagePort, credit: number): StreamRequest {
  return Array.of<unknown>(Op.Stream, 0, module, request, ctx.callId, ctx.branchId, ctx.deadlineEpochMs, ctx.capabilities, ctx.attrs, ctx.options, flags, port, credit) as StreamRequest;
}

/** The handler context of a call or stream request (without `sent`, which the session adds). */
export function contextOf(msg: CallRequest | StreamRequest): HandlerContext {
  return {
    callId: msg[Req.CALL_ID],
    branchId: msg[Req.BRANCH_ID],
    deadlineEpochMs: msg[Req.DEADLINE_EPOCH_MS],
    capabilities: msg[Req.CAPABILITIES],
    attrs: msg[Req.ATTRS],
    options: msg[Req.OPTIONS],
  };
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
