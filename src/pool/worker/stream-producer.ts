import type { MessagePort } from 'node:worker_threads';
import { deserializeError, serializeError } from '../../core/errors.js';
import { noop } from '../../core/noop.js';
import type { StreamChunks, StreamToWorker } from '../protocol.js';

/** Chunks sent per message at most, and bytes (of strings and binaries) before a flush. */
const MAX_BATCH = 64;
const MAX_BATCH_BYTES = 64 * 1024;

/** The flush of every producer running in this thread. */
const producing = new Set<() => void>();
let exitHooked = false;

/**
 * A handler that ends its thread (`process.exit`, an uncaught throw) right after yielding must
 * not take the chunks it produced with it: they go out before the thread does. `exit` runs
 * synchronously on `process.exit` in a worker, and `uncaughtExceptionMonitor` observes an
 * uncaught throw without changing what it does; `postMessage` is synchronous.
 */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const flushAll = (): void => {
    for (const flush of producing) flush();
  };
  process.on('exit', flushAll);
  process.on('uncaughtExceptionMonitor', flushAll);
}

/**
 * Pulls a stream handler's chunks and sends them on the stream's port, never more than the
 * credit the consumer granted. Chunks produced within one turn of the event loop go out as one
 * message (flushed on `setImmediate`, or at once when the batch is full or credit runs out),
 * so small chunks are cheap and a slow producer's chunks still go out one turn after they come.
 * Resolves when the producer is done, whichever way.
 */
export async function produceStream(
  port: MessagePort,
  credit: number,
  controller: AbortController,
  open: (signal: AbortSignal) => AsyncIterable<unknown>,
): Promise<void> {
  let batch: unknown[] = [];
  let batchBytes = 0;
  let immediate: NodeJS.Immediate | undefined;
  let wake: (() => void) | undefined;
  let stopped = false;
  const signal = controller.signal;

  const onMessage = (msg: StreamToWorker): void => {
    if (msg.t === 'credit') credit += msg.n;
    else stop(msg.reason === undefined ? undefined : deserializeError(msg.reason));
    wake?.();
  };
  const stop = (reason: unknown): void => {
    stopped = true;
    if (!signal.aborted) controller.abort(reason);
  };
  const onClose = (): void => {
    stop(undefined);
    wake?.();
  };
  port.on('message', onMessage);
  port.on('close', onClose);

  const send = (msg: StreamChunks): boolean => {
    try {
      port.postMessage(msg);
      return true;
    } catch (err) {
      if (stopped) return false;
      port.postMessage({ t: 'chunks', values: [], error: serializeError(err) } satisfies StreamChunks);
      stop(err);
      return false;
    }
  };
  const flush = (): void => {
    if (immediate !== undefined) clearImmediate(immediate);
    immediate = undefined;
    if (batch.length === 0 || stopped) return;
    const values = batch;
    batch = [];
    batchBytes = 0;
    send({ t: 'chunks', values });
  };

  let iterator: AsyncIterator<unknown> | undefined;
  let finished = false;
  hookExit();
  producing.add(flush);
  try {
    signal.throwIfAborted();
    iterator = open(signal)[Symbol.asyncIterator]();
    for (;;) {
      if (credit <= 0) {
        flush();
        while (credit <= 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      if (stopped) break;
      const r = await iterator.next();
      if (stopped) break;
      if (r.done === true) {
        finished = true;
        if (immediate !== undefined) clearImmediate(immediate);
        const values = batch;
        batch = [];
        send({ t: 'chunks', values, end: true });
        break;
      }
      batch.push(r.value);
      credit--;
      batchBytes += sizeOf(r.value);
      if (batch.length >= MAX_BATCH || batchBytes >= MAX_BATCH_BYTES) flush();
      else immediate ??= setImmediate(flush);
    }
  } catch (err) {
    finished = true;
    if (immediate !== undefined) clearImmediate(immediate);
    if (!stopped) send({ t: 'chunks', values: batch, error: serializeError(err) });
  } finally {
    producing.delete(flush);
    if (immediate !== undefined) clearImmediate(immediate);
    port.off('message', onMessage);
    port.off('close', onClose);
    port.close();
    // Stopped early: let the generator run its `finally` (it may hold a socket).
    if (!finished && iterator?.return !== undefined) await iterator.return().catch(noop);
  }
}

function sizeOf(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  return 0;
}
