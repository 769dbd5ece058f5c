import { ConfigError, handlerLoadError } from '../core/errors.js';
import type { Handler, Service } from '../core/service.js';

/** Picks `call`/`stream` from a handler module's named exports, or from its default export. */
export function handlerFromModule(mod: Record<string, unknown>, href: string): Handler {
  const source = (typeof mod['call'] === 'function' || typeof mod['stream'] === 'function' ? mod : mod['default']) as Handler | undefined;
  if (!source || (typeof source.call !== 'function' && typeof source.stream !== 'function')) {
    throw new ConfigError('handler module', [{ path: href, rule: 'exports', message: 'must export a `call` or `stream` function' }]);
  }
  const handler: Handler = {};
  if (typeof source.call === 'function') handler.call = source.call.bind(source);
  if (typeof source.stream === 'function') handler.stream = source.stream.bind(source);
  return handler;
}

/** Loads each handler module once (the promise is cached, so concurrent first calls share it). */
export class HandlerCache {
  readonly #loaded = new Map<string, Handler>();
  readonly #loading = new Map<string, Promise<Handler>>();

  /** The handler if it is already loaded (the hot path stays synchronous). */
  peek(service: Service): Handler | undefined {
    return service.handler ?? (service.module === undefined ? undefined : this.#loaded.get(service.module));
  }

  load(service: Service): Promise<Handler> {
    const ready = this.peek(service);
    if (ready) return Promise.resolve(ready);
    const href = service.module!;
    let pending = this.#loading.get(href);
    if (!pending) {
      pending = import(href).then(
        (mod: Record<string, unknown>) => {
          const h = handlerFromModule(mod, href);
          this.#loaded.set(href, h);
          this.#loading.delete(href);
          return h;
        },
        (err: unknown) => {
          this.#loading.delete(href);
          throw handlerLoadError(href, err);
        },
      );
      this.#loading.set(href, pending);
    }
    return pending;
  }
}
