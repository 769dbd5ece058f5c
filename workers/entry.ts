import { threadId, type TransferListItem } from 'node:worker_threads';
import { ClosedError, ConfigError, deserializeError, handlerLoadError, serializeError, type SerializedError } from '../src/core/errors.js';
import type { Handler } from '../src/core/service.js';
import { encodeResult } from '../src/pool/codec.js';
import { handlerFromModule } from '../src/pool/load-handler.js';
import { Outbox } from '../src/pool/outbox.js';
import { contextOf, Op, STREAM_CREDIT, STREAM_PORT, type CallRequest, type FromWorker, type SessionStart, type StreamRequest, type ToWorker } from '../src/pool/protocol.js';
import { IdlePoller } from './idle-poller.js';
import { produceStream } from './stream-producer.js';

/**
 * The worker entry. The pool runs one long-lived session per worker thread: the session
 * serves the control port it is handed (calls, stream openings, cancels) until told to close.
 * Handler modules are imported once per thread and cached across sessions.
 */
const handlers = new Map<string, Handler | Promise<Handler>>();

let tsLoader: Promise<unknown> | undefined;

/**
 * Node 20 does not apply the parent's `--import tsx` ESM hooks inside worker threads, so a
 * TypeScript handler module (development, tests) registers tsx here, once per thread.
 */
function importHandler(href: string): Promise<Record<string, unknown>> {
  if (!/\.[mc]?ts$/.test(new URL(href).pathname)) return import(href) as Promise<Record<string, unknown>>;
  tsLoader ??= tsxRegistered() ? Promise.resolve() : import('tsx/esm/api').then((tsx: { register: () => unknown }) => tsx.register());
  return tsLoader.then(() => import(href) as Promise<Record<string, unknown>>);
}

function tsxRegistered(): boolean {
  return (globalThis as Record<symbol, unknown>)[Symbol.for('callpool.tsx')] === true;
}

function load(href: string): Handler | Promise<Handler> {
  let h = handlers.get(href);
  if (h === undefined) {
    h = importHandler(href).then(
      (mod: Record<string, unknown>) => {
        const handler = handlerFromModule(mod, href);
        handlers.set(href, handler);
        return handler;
      },
      (err: unknown) => {
        handlers.delete(href);
        throw handlerLoadError(href, err);
      },
    );
    handlers.set(href, h);
  }
  return h;
}

export default function session({ port, progress, idleSpinUs }: SessionStart): Promise<void> {
  return new Promise<void>((resolve) => {
    const out = new Outbox<FromWorker>(port, (msg, err) =>
      msg[0] === Op.Result || msg[0] === Op.Packed ? [Op.Error, msg[1], serializeError(err)] : undefined,
    );
    // Per running id: its controller; `null` before the handler starts (or when it takes no
    // signal); a `Cancelled` when cancelled before it started.
    const running = new Map<number, AbortController | Cancelled | null>();
    const poller = new IdlePoller(port, idleSpinUs ?? 0, () => running.size === 0, (batch) => onMessage(batch as ToWorker[]));

    const ok = (id: number, value: unknown): void => {
      if (!running.delete(id)) return;
      const transfer: TransferListItem[] = [];
      out.post(encodeResult(id, value, transfer), transfer);
      poller.wentIdle();
    };
    const fail = (id: number, err: unknown): void => {
      if (!running.delete(id)) return;
      out.post([Op.Error, id, serializeError(err)]);
      poller.wentIdle();
    };

    const runCall = (msg: CallRequest, handler: Handler): void => {
      const id = msg[1];
      if (typeof handler.call !== 'function') return fail(id, missing(msg[2], 'call'));
      const state = running.get(id);
      // Cancelled while its module loaded: the handler never starts.
      if (state instanceof Cancelled) return fail(id, state.reason);
      // A handler that declares no `signal` parameter cannot observe one: skip the controller,
      // the costliest part of a tiny call.
      let signal = idle;
      if (handler.call.length >= 3) {
        const controller = new AbortController();
        running.set(id, controller);
        signal = controller.signal;
      }
      let result: unknown;
      try {
        result = handler.call(msg[3], contextOf(msg), signal);
      } catch (err) {
        return fail(id, err);
      }
      if (isThenable(result)) result.then((v) => ok(id, v), (e: unknown) => fail(id, e));
      else ok(id, result);
    };

    const runStream = (msg: StreamRequest, handler: Handler | Promise<Handler>, controller: AbortController): void => {
      const open = (signal: AbortSignal): AsyncIterable<unknown> => ({
        [Symbol.asyncIterator]: () => opened(handler, msg, signal),
      });
      produceStream(msg[STREAM_PORT], msg[STREAM_CREDIT], controller, open).finally(() => {
        running.delete(msg[1]);
        out.post([Op.Done, msg[1]]);
        poller.wentIdle();
      });
    };

    const handle = (msg: ToWorker): void => {
      switch (msg[0]) {
        case Op.Call: {
          progress[0] = msg[1];
          running.set(msg[1], null);
          const h = load(msg[2]);
          if (h instanceof Promise) h.then((handler) => runCall(msg, handler), (e: unknown) => fail(msg[1], e));
          else runCall(msg, h);
          return;
        }
        case Op.Stream: {
          progress[0] = msg[1];
          const controller = new AbortController();
          running.set(msg[1], controller);
          runStream(msg, load(msg[2]), controller);
          return;
        }
        case Op.Cancel: {
          const state = running.get(msg[1]);
          if (state instanceof AbortController) state.abort(reasonOf(msg[2]));
          else if (state === null) running.set(msg[1], new Cancelled(reasonOf(msg[2])));
          return;
        }
        case Op.Close:
          poller.stop();
          for (const c of running.values()) if (c instanceof AbortController) c.abort(new ClosedError('the pool is closing'));
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
function opened(handler: Handler | Promise<Handler>, msg: StreamRequest, signal: AbortSignal): AsyncIterator<unknown> {
  let inner: AsyncIterator<unknown> | undefined;
  const start = async (): Promise<AsyncIterator<unknown>> => {
    const h = await handler;
    if (typeof h.stream !== 'function') throw missing(msg[2], 'stream');
    signal.throwIfAborted();
    return h.stream(msg[3], contextOf(msg), signal)[Symbol.asyncIterator]();
  };
  return {
    next: () => (inner !== undefined ? inner.next() : start().then((it) => (inner = it).next())),
    return: async () => (inner?.return !== undefined ? inner.return() : { done: true, value: undefined }),
  };
}

/** A call cancelled before its handler started. */
class Cancelled {
  constructor(readonly reason: unknown) {}
}

/** The signal of a handler that declared none: it never aborts. */
const idle = new AbortController().signal;

function reasonOf(reason: SerializedError | undefined): unknown {
  return reason === undefined ? undefined : deserializeError(reason);
}

function missing(href: string, side: 'call' | 'stream'): ConfigError {
  return new ConfigError('handler module', [{ path: href, rule: 'exports', message: `has no \`${side}\` export` }]);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
