import { ConfigError } from '../core/errors.js';
import type { Handler, HandlerContext, Service } from '../core/service.js';
import { HandlerCache } from './load-handler.js';
import type { Pool, PoolTask } from './types.js';

/**
 * Runs handlers on the main thread. Same contract as the worker pools, except that a handler
 * which ignores its abort signal cannot be terminated: its promise is abandoned (the call
 * settles at once with the abort reason) while the handler's own work runs on.
 */
export class InlinePool implements Pool {
  readonly kind = 'inline' as const;
  readonly #handlers = new HandlerCache();

  call(task: PoolTask, signal: AbortSignal): Promise<unknown> {
    if (signal.aborted) return Promise.reject(signal.reason);
    let out: unknown;
    try {
      out = this.invoke(task.service, task.request, task.ctx, { signal });
    } catch (err) {
      return Promise.reject(err);
    }
    return untilAborted(out instanceof Promise ? out : Promise.resolve(out), signal);
  }

  /**
   * Runs a handler and returns what it returned (a value or a promise; a synchronous throw
   * propagates). The abort signal is read from `source` only if the handler declares the
   * `signal` parameter: an AbortSignal costs several microseconds to make in Node 20, more
   * than the rest of a call. The caller owns settling on abort (the executor settles a call
   * the moment it is cancelled).
   */
  invoke(service: Service, request: unknown, ctx: HandlerContext, source: { readonly signal: AbortSignal }): unknown {
    const ready = this.#handlers.peek(service);
    if (ready) return run(ready, service, request, ctx, source);
    return this.#handlers.load(service).then((h) => run(h, service, request, ctx, source));
  }

  async *stream(task: PoolTask, signal: AbortSignal): AsyncIterable<unknown> {
    const handler = this.#handlers.peek(task.service) ?? (await this.#handlers.load(task.service));
    if (typeof handler.stream !== 'function') throw noSide(task.service, 'stream');
    signal.throwIfAborted();
    const it = handler.stream(task.request, task.ctx, signal)[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const r = await untilAborted(it.next(), signal);
        if (r.done) {
          finished = true;
          return;
        }
        yield r.value;
      }
    } finally {
      // An early exit (break, abort, error) tells the producer to stop; never wait on it.
      if (!finished) it.return?.()?.catch(noop);
    }
  }

  async close(): Promise<void> {}
}

function run(handler: Handler, service: Service, request: unknown, ctx: HandlerContext, source: { readonly signal: AbortSignal }): unknown {
  if (typeof handler.call !== 'function') throw noSide(service, 'call');
  const h = handler as { call(r: unknown, c: unknown, s?: AbortSignal): unknown };
  return handler.call.length >= 3 ? h.call(request, ctx, source.signal) : h.call(request, ctx);
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(noop);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(noop);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function noSide(service: Service, side: 'call' | 'stream'): ConfigError {
  return new ConfigError(`service '${service.name}'`, [{ path: `/handler/${side}`, rule: 'required', message: `the handler has no \`${side}\` export` }]);
}

function noop(): void {}
