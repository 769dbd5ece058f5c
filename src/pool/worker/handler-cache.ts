import { isMainThread } from 'node:worker_threads';
import { HandlerLoadError } from '../../core/errors.js';
import type { Handler } from '../../core/service.js';

/**
 * Loads each handler module once per thread and keeps it: the one loader of the inline pool
 * (main thread) and of every worker session. The promise is cached while it loads, so
 * concurrent first calls share one import; a failed load is forgotten, so a later call tries
 * again. Every failure is a `HandlerLoadError` (`E_HANDLER_LOAD`) with the original as `cause`.
 */
export class HandlerCache {
  readonly #loaded = new Map<string, Handler>();
  readonly #loading = new Map<string, Promise<Handler>>();

  /** The handler if its module has loaded (the hot path stays synchronous). */
  peek(href: string): Handler | undefined {
    return this.#loaded.get(href);
  }

  /** The loaded handler, or a promise of it. */
  get(href: string): Handler | Promise<Handler> {
    return this.#loaded.get(href) ?? this.load(href);
  }

  load(href: string): Promise<Handler> {
    const ready = this.#loaded.get(href);
    if (ready !== undefined) return Promise.resolve(ready);
    let pending = this.#loading.get(href);
    if (pending === undefined) {
      pending = importModule(href).then(
        (mod) => {
          const h = handlerFromModule(mod, href);
          this.#loaded.set(href, h);
          this.#loading.delete(href);
          return h;
        },
        (err: unknown) => {
          this.#loading.delete(href);
          throw err instanceof HandlerLoadError ? err : new HandlerLoadError(`handler module ${href} cannot be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        },
      );
      this.#loading.set(href, pending);
    }
    return pending;
  }
}

/** Picks `call`/`stream` from a handler module's named exports, or from its default export. */
export function handlerFromModule(mod: Record<string, unknown>, href: string): Handler {
  const source = (typeof mod['call'] === 'function' || typeof mod['stream'] === 'function' ? mod : mod['default']) as Handler | undefined;
  if (!source || (typeof source.call !== 'function' && typeof source.stream !== 'function')) {
    throw new HandlerLoadError(`handler module ${href} must export a \`call\` or \`stream\` function`);
  }
  const handler: Handler = {};
  if (typeof source.call === 'function') handler.call = source.call.bind(source);
  if (typeof source.stream === 'function') handler.stream = source.stream.bind(source);
  return handler;
}

let tsLoader: Promise<unknown> | undefined;

/**
 * Node 20 does not apply the parent's `--import tsx` hooks inside worker threads, so a worker
 * importing a TypeScript handler (development, tests) registers tsx first, once per thread,
 * unless the source entry (workers/ts-entry.mjs) already did.
 */
function importModule(href: string): Promise<Record<string, unknown>> {
  if (isMainThread || !/\.[mc]?ts$/.test(new URL(href).pathname)) return import(href) as Promise<Record<string, unknown>>;
  tsLoader ??= (globalThis as Record<symbol, unknown>)[Symbol.for('callpool.tsx')] === true
    ? Promise.resolve()
    : import('tsx/esm/api').then((tsx: { register: () => unknown }) => tsx.register());
  return tsLoader.then(() => import(href) as Promise<Record<string, unknown>>);
}
