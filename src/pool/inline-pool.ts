import { ConfigError } from '../core/errors.js';
import type { Handler } from '../core/service.js';
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
    return untilAborted(this.invoke(task, () => signal), signal);
  }

  /**
   * Runs a handler, creating its abort signal only if the handler declares the `signal`
   * parameter (an AbortSignal costs several microseconds to make in Node 20, more than the
   * rest of a call). Handlers declared with fewer parameters never see it. The caller owns
   * settling on abort: the executor settles a call the moment it is cancelled.
   */
  invoke(task: PoolTask, signal: () => AbortSignal): Promise<unknown> {
    const ready = this.#handlers.peek(task.service);
    if (ready) return run(ready, task, signal);
    return this.#handlers.load(task.service).then((h) => run(h, task, signal));
  }

  async *stream(task: PoolTask, signal: AbortSignal): AsyncIterable<unknown> {
    const handler = this.#handlers.peek(task.service) ?? (await this.#handlers.load(task.service));
    if (typeof handler.stream !== 'function') throw noSide(task, 'stream');
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

function run(handler: Handler, task: PoolTask, signal: () => AbortSignal): Promise<unknown> {
  if (typeof handler.call !== 'function') return Promise.reject(noSide(task, 'call'));
  const h = handler as { call(r: unknown, c: unknown, s?: AbortSignal): unknown };
  let out: unknown;
  try {
    out = handler.call.length >= 3 ? h.call(task.request, task.ctx, signal()) : h.call(task.request, task.ctx);
  } catch (err) {
    return Promise.reject(err);
  }
  return out instanceof Promise ? out : Promise.resolve(out);
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

function noSide(task: PoolTask, side: 'call' | 'stream'): ConfigError {
  return new ConfigError(`service '${task.service.name}'`, [{ path: `/handler/${side}`, rule: 'required', message: `the handler has no \`${side}\` export` }]);
}

function noop(): void {}
