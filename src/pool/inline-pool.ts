import { setMaxListeners } from 'node:events';
import type { AbortHandle } from '../core/abort-handle.js';
import { ConfigError } from '../core/errors.js';
import { noop } from '../core/noop.js';
import type { Handler, Service } from '../core/service.js';
import { SentReport } from './sent-report.js';
import { HandlerCache } from './worker/handler-cache.js';
import type { Pool, PoolTask } from './types.js';

/**
 * Runs handlers on the main thread. Same contract as the worker pools, except that a handler
 * which ignores its abort cannot be terminated: its promise is abandoned (the task rejects at
 * once with the abort reason) while the handler's own work runs on. A synchronous handler's
 * value is returned as it is, not wrapped in a promise.
 */
export class InlinePool implements Pool {
  readonly kind = 'inline' as const;
  readonly inProcess = true;
  readonly #handlers = new HandlerCache();

  run(task: PoolTask, handle: AbortHandle): unknown {
    if (handle.aborted) return Promise.reject(handle.reason);
    const ready = this.#peek(task.service);
    if (ready !== undefined) return this.#call(ready, task, handle);
    return this.#handlers.load(task.service.module!).then((h) => this.#call(h, task, handle));
  }

  async *stream(task: PoolTask, handle: AbortHandle): AsyncIterable<unknown> {
    const handler = this.#peek(task.service) ?? (await this.#handlers.load(task.service.module!));
    if (typeof handler.stream !== 'function') throw noSide(task.service, 'stream');
    if (handle.aborted) throw handle.reason;
    const report = task.onSent === undefined ? undefined : new SentReport(task.onSent);
    if (report !== undefined) task.ctx.sent = report.sent;
    const it = handler.stream(task.request, task.ctx, handle.signal)[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const r = await untilAborted(it.next(), handle);
        if (r.done) {
          finished = true;
          return;
        }
        yield r.value;
      }
    } finally {
      // An early exit (break, abort, error) tells the producer to stop; never wait on it.
      report?.ended();
      if (!finished) it.return?.()?.catch(noop);
    }
  }

  async ready(services: readonly Service[] = []): Promise<void> {
    await Promise.all(services.map((s) => (s.handler === undefined && s.module !== undefined ? this.#handlers.load(s.module).catch(noop) : undefined)));
  }

  async close(): Promise<void> {}

  #peek(service: Service): Handler | undefined {
    return service.handler ?? this.#handlers.peek(service.module!);
  }

  #call(handler: Handler, task: PoolTask, handle: AbortHandle): unknown {
    if (typeof handler.call !== 'function') throw noSide(task.service, 'call');
    if (task.onSent === undefined) {
      const out = handler.call(task.request, task.ctx, signalFor(task.service, handle));
      return out instanceof Promise ? untilAborted(out, handle) : out;
    }
    const report = new SentReport(task.onSent);
    task.ctx.sent = report.sent;
    let out: unknown;
    try {
      out = handler.call(task.request, task.ctx, signalFor(task.service, handle));
    } catch (err) {
      report.ended();
      throw err;
    }
    if (!(out instanceof Promise)) {
      report.ended();
      return out;
    }
    out.then(report.ended, report.ended);
    return untilAborted(out, handle);
  }
}

function untilAborted<T>(p: Promise<T>, handle: AbortHandle): Promise<T> {
  if (handle.aborted) {
    p.catch(noop);
    return Promise.reject(handle.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (reason: unknown): void => {
      p.catch(noop);
      reject(reason);
    };
    handle.onAbort(onAbort);
    p.then(
      (v) => {
        handle.offAbort(onAbort);
        resolve(v);
      },
      (e: unknown) => {
        handle.offAbort(onAbort);
        reject(e);
      },
    );
  });
}

/**
 * The signal of a handler whose service says it never looks at one. Shared by every such call,
 * so code that listens on it anyway (and removes its listener) must not trip Node's leak warning.
 */
const NEVER = new AbortController().signal;
setMaxListeners(0, NEVER);

/** The signal a call's handler gets: none that aborts, the light stand-in, or a real one. */
function signalFor(service: Service, handle: AbortHandle): AbortSignal {
  return !service.abortable ? NEVER : service.lightSignal ? handle.lightSignal : handle.signal;
}

function noSide(service: Service, side: 'call' | 'stream'): ConfigError {
  return new ConfigError(`service '${service.name}'`, [{ path: `/handler/${side}`, rule: 'required', message: `the handler has no \`${side}\` export` }]);
}
