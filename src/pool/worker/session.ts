import { setMaxListeners } from 'node:events';
import { threadId, type TransferListItem } from 'node:worker_threads';
import { toMachine } from '../../core/clock.js';
import { CancelledError, ClosedError, ConfigError, deserializeError, serializeError, type SerializedError } from '../../core/errors.js';
import { AbortHub } from '../../core/abort-hub.js';
import { noop } from '../../core/noop.js';
import type { Handler, HandlerContext } from '../../core/service.js';
import { encodeResult } from '../codec.js';
import { Outbox } from '../outbox.js';
import { contextOf, Flag, handlerFinished, handlerStarted, Op, Progress, Reply, Req, type CallRequest, type FromWorker, type SessionStart, type StreamRequest, type ToWorker } from '../protocol.js';
import { SentReport } from '../sent-report.js';
import { HandlerCache } from './handler-cache.js';
import { IdlePoller } from './idle-poller.js';
import { produceStream } from './stream-producer.js';

/** Handler modules are imported once per thread and kept across sessions. */
const handlers = new HandlerCache();
/** The running state of a started handler that takes no signal. */
const STARTED = true;
/** The signal of every handler whose service says it never reads one. */
const NEVER = new AbortController().signal;
setMaxListeners(0, NEVER);
/** A running call's abort: a real controller, or the light stand-in (`abortable: 'light'`). */
type Controller = AbortController | AbortHub;

function controllerFor(flags: number): Controller | undefined {
  if ((flags & Flag.NO_SIGNAL) !== 0) return undefined;
  return (flags & Flag.LIGHT_SIGNAL) !== 0 ? new AbortHub() : new AbortController();
}

function isController(state: Controller | typeof STARTED | null | undefined): state is Controller {
  return typeof state === 'object' && state !== null;
}
/** Longest a send report waits for the call's result to ride with (ms). */
const SENT_LINGER_MS = 1;

/**
 * One worker's session: the pool runs one per worker thread, and it serves the control port it
 * is handed (calls, stream openings, cancels) until told to close.
 */
export function serveSession({ port, progress, idleSpinUs }: SessionStart): Promise<void> {
  return new Promise<void>((resolve) => {
    const out = new Outbox<FromWorker>(port, (msg, err) =>
      msg[0] === Op.Result || msg[0] === Op.Packed ? [Op.Error, msg[Reply.ID], serializeError(err)] : undefined,
    );
    // Per running id: its controller once the handler started (`STARTED` for a handler that
    // takes no signal); `null` before (its module may still be loading).
    const running = new Map<number, Controller | typeof STARTED | null>();
    const poller = new IdlePoller(port, idleSpinUs ?? 0, () => running.size === 0, (batch) => onMessage(batch as ToWorker[]));

    /** Forgets a call; false if it was already answered. */
    const finished = (id: number): boolean => {
      const state = running.get(id);
      if (state === undefined) return false;
      running.delete(id);
      if (state !== null) handlerFinished(progress, id);
      return true;
    };
    const ok = (id: number, value: unknown): void => {
      if (!finished(id)) return;
      const transfer: TransferListItem[] = [];
      out.post(encodeResult(id, value, transfer), transfer);
      poller.wentIdle();
    };
    const fail = (id: number, err: unknown): void => {
      if (!finished(id)) return;
      out.post([Op.Error, id, serializeError(err)]);
      poller.wentIdle();
    };

    /**
     * The handler's context, with `sent()` when the request asked for the send instant.
     */
    const contextFor = (msg: CallRequest | StreamRequest): { ctx: HandlerContext; ended: () => void } => {
      const ctx = contextOf(msg);
      if ((msg[Req.FLAGS] & Flag.REPORT_SENT) === 0) return { ctx, ended: noop };
      const id = msg[Req.ID];
      // The report carries its instant, and a held slot counts until it arrives: it rides with
      // the call's result when that follows within SENT_LINGER_MS, saving the main thread a wake-up.
      const report = new SentReport((at) => out.postLater([Op.Sent, id, toMachine(at)], SENT_LINGER_MS));
      ctx.sent = report.sent;
      return { ctx, ended: report.ended };
    };

    const runCall = (msg: CallRequest, handler: Handler): void => {
      const id = msg[Req.ID];
      if (typeof handler.call !== 'function') return fail(id, missing(msg[Req.MODULE], 'call'));
      // Cancelled while its module loaded: it was answered then, and the handler never starts.
      if (!running.has(id)) return;
      // Every handler gets a live signal, whatever its declared parameters (a wrapper such as
      // `(...a) => f(...a)` declares none and still passes it on), unless its service says it
      // never reads one: an AbortController costs a few µs a call in Node 20. A cancel then
      // leaves it to the pool's grace period, as for a handler that ignores its signal.
      const controller = controllerFor(msg[Req.FLAGS]);
      running.set(id, controller ?? STARTED);
      handlerStarted(progress, id);
      const { ctx, ended } = contextFor(msg);
      let result: unknown;
      try {
        result = handler.call(msg[Req.REQUEST], ctx, controller?.signal ?? NEVER);
      } catch (err) {
        ended();
        return fail(id, err);
      }
      if (isThenable(result)) {
        result.then(
          (v) => {
            ended();
            ok(id, v);
          },
          (e: unknown) => {
            ended();
            fail(id, e);
          },
        );
      } else {
        ended();
        ok(id, result);
      }
    };

    const runStream = (msg: StreamRequest, handler: Handler | Promise<Handler>, controller: AbortController): void => {
      const id = msg[Req.ID];
      const { ctx, ended } = contextFor(msg);
      const open = (signal: AbortSignal): AsyncIterable<unknown> => ({
        [Symbol.asyncIterator]: () => opened(handler, msg, ctx, signal),
      });
      produceStream(msg[Req.PORT], msg[Req.CREDIT], controller, open).finally(() => {
        ended();
        finished(id);
        out.post([Op.Done, id]);
        poller.wentIdle();
      });
    };

    const handle = (msg: ToWorker): void => {
      switch (msg[0]) {
        case Op.Call: {
          const id = msg[Req.ID];
          progress[Progress.RECEIVED] = id;
          running.set(id, null);
          const h = handlers.get(msg[Req.MODULE]);
          if (h instanceof Promise) h.then((handler) => runCall(msg, handler), (e: unknown) => fail(id, e));
          else runCall(msg, h);
          return;
        }
        case Op.Stream: {
          const id = msg[Req.ID];
          progress[Progress.RECEIVED] = id;
          handlerStarted(progress, id);
          const controller = new AbortController();
          running.set(id, controller);
          runStream(msg, handlers.get(msg[Req.MODULE]), controller);
          return;
        }
        case Op.Cancel: {
          const id = msg[Reply.ID];
          const state = running.get(id);
          if (isController(state)) state.abort(reasonOf(msg[Reply.PAYLOAD]));
          // Not started yet (its module is loading): answer now, so no grace period runs
          // against a handler that never started and no worker is lost to it.
          else if (state === null) fail(id, reasonOf(msg[Reply.PAYLOAD]) ?? new CancelledError('cancelled before the handler started'));
          return;
        }
        case Op.Load: {
          const id = msg[Reply.ID];
          const done = (): void => out.post([Op.Done, id]);
          Promise.resolve(handlers.get(msg[Reply.PAYLOAD])).then(done, done);
          return;
        }
        case Op.Close:
          poller.stop();
          for (const c of running.values()) if (isController(c)) c.abort(new ClosedError('the pool is closing'));
          out.flush();
          port.off('message', onMessage);
          port.close();
          resolve();
          return;
      }
    };
    const onMessage = (batch: ToWorker[]): void => {
      for (const msg of batch) handle(msg);
    };
    port.on('message', onMessage);
    out.post([Op.Ready, threadId]);
  });
}

/** The handler's iterator, once its module has loaded (a load failure fails the stream). */
function opened(handler: Handler | Promise<Handler>, msg: StreamRequest, ctx: HandlerContext, signal: AbortSignal): AsyncIterator<unknown> {
  let inner: AsyncIterator<unknown> | undefined;
  const start = async (): Promise<AsyncIterator<unknown>> => {
    // A stream cancelled while its module loads ends now, not when the load finishes.
    const h = handler instanceof Promise ? await untilAborted(handler, signal) : handler;
    if (typeof h.stream !== 'function') throw missing(msg[Req.MODULE], 'stream');
    signal.throwIfAborted();
    return h.stream(msg[Req.REQUEST], ctx, signal)[Symbol.asyncIterator]();
  };
  return {
    next: () => (inner !== undefined ? inner.next() : start().then((it) => (inner = it).next())),
    return: async () => (inner?.return !== undefined ? inner.return() : { done: true, value: undefined }),
  };
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function reasonOf(reason: SerializedError | undefined): unknown {
  return reason === undefined ? undefined : deserializeError(reason);
}

function missing(href: string, side: 'call' | 'stream'): ConfigError {
  return new ConfigError('handler module', [{ path: href, rule: 'exports', message: `has no \`${side}\` export` }]);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
