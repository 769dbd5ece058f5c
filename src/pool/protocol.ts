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
   * Shared memory where the worker records, at index 0, the id of the last call it started
   * (ids count up per session). When the worker dies, calls with a higher id never ran and
   * can go to another worker without running twice.
   */
  progress: Float64Array;
}

export interface CallRequest {
  t: 'call';
  id: number;
  module: string;
  request: unknown;
  ctx: HandlerContext;
}

export interface StreamRequest {
  t: 'stream';
  id: number;
  module: string;
  request: unknown;
  ctx: HandlerContext;
  /** The stream's own port (transferred): chunks go out on it, credit and cancel come in. */
  port: MessagePort;
  /** Chunks the producer may send before it waits for credit. */
  credit: number;
}

/** Aborts the handler's signal for a running call. */
export interface CancelRequest {
  t: 'cancel';
  id: number;
  /** Why (the caller's abort reason), so the handler's `signal.reason` tells the same story. */
  reason?: SerializedError;
}

/** Ends the session: in-flight handlers are aborted and the worker returns to the pool. */
export interface CloseRequest {
  t: 'close';
}

export type ToWorker = CallRequest | StreamRequest | CancelRequest | CloseRequest;

/** The session is serving (sent once, first). */
export interface Ready {
  t: 'ready';
  threadId: number;
}

export interface CallResult {
  t: 'result';
  id: number;
  /** The handler's value, as structured clone carries it, unless `packed` holds it. */
  value?: unknown;
  /** The value as msgpack bytes (buffer transferred), when the codec chose that. */
  packed?: Uint8Array;
}

/** The call failed. */
export interface CallError {
  t: 'error';
  id: number;
  error: SerializedError;
}

/** A stream's producer finished (ended, failed or cancelled): its id is free again. */
export interface StreamDone {
  t: 'done';
  id: number;
}

export type FromWorker = Ready | CallResult | CallError | StreamDone;

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
