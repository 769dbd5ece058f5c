import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { ConfigError } from './errors.js';
import type { CallContextData } from './schemas.js';
import { compile, type Validator } from './validate.js';

/** What a handler sees of its call: plain data, the same on the main thread and in a worker. */
export interface HandlerContext extends CallContextData {
  /** The service's `options` (base URL, model, ...), passed as given to `defineService`. */
  options: unknown;
  /**
   * Added by the pool: call it the instant the request leaves the process (the HTTP services
   * pass it to the transport, which calls it when the request is handed to the socket). The
   * rate limiter counts the call's slot from then. A handler that never calls it is counted
   * from its start.
   */
  sent?: () => void;
}

/**
 * A handler module exports `call(request, ctx, signal)` and/or `stream(request, ctx, signal)`.
 * It runs inside the pool (or inline); `signal` aborts on cancel, deadline or close.
 */
export interface Handler<Req = unknown, Res = unknown, Chunk = unknown> {
  call?(request: Req, ctx: HandlerContext, signal: AbortSignal): Res | Promise<Res>;
  stream?(request: Req, ctx: HandlerContext, signal: AbortSignal): AsyncIterable<Chunk>;
}

export interface ServiceDefinition<Req = unknown, Res = unknown, Chunk = unknown> {
  name: string;
  /** The handler module (file URL, absolute path or `import.meta.url`-relative URL). */
  module?: URL | string;
  /** An in-process handler object; runs only on the `inline` pool. */
  handler?: Handler<Req, Res, Chunk>;
  /** Capabilities every call of this service requires (policy gate). */
  requires?: readonly string[];
  /** Capabilities derived from a request (e.g. `net.out:<host>` from its URL). */
  rights?: (request: Req) => readonly string[];
  /** Tokens charged to the token limiter at admission. @default () => 0 */
  estimateTokens?: (request: Req) => number;
  /** Actual tokens used, read from the result (reconciles the token limiter). */
  tokensFromResult?: (result: Res) => number | undefined;
  /** Tokens reported by a stream chunk (summed over the stream; reconciles the limiter). */
  tokensFromChunk?: (chunk: Chunk) => number | undefined;
  /** TypeBox schema of the request: compiled once, checked before anything is queued. */
  requestSchema?: TSchema;
  /** Structured-clone-safe options handed to the handler as `ctx.options`. */
  options?: unknown;
  /**
   * `false`: the handler never looks at its abort signal, so it gets one shared signal that
   * never aborts instead of a fresh AbortSignal per call (making one costs more in Node 20
   * than the rest of a small call). The call still settles at once when aborted.
   *
   * `'light'`: the handler only reads `aborted` and `reason`, calls `throwIfAborted()` and adds
   * or removes `'abort'` listeners; it never hands the signal to an API that needs a real
   * AbortSignal (`fetch`, `AbortSignal.any`, `timers/promises`). It then gets a plain object
   * with just those members, which aborts like the real one at a fraction of its cost. The
   * built-in HTTP services use it. @default true
   */
  abortable?: boolean | 'light';
}

export interface Service<Req = unknown, Res = unknown, Chunk = unknown> {
  readonly name: string;
  /** Handler module as a `file:` URL string, when the service has one. */
  readonly module: string | undefined;
  readonly handler: Handler<Req, Res, Chunk> | undefined;
  readonly requires: readonly string[];
  readonly rights: ((request: Req) => readonly string[]) | undefined;
  readonly estimateTokens: ((request: Req) => number) | undefined;
  readonly tokensFromResult: ((result: Res) => number | undefined) | undefined;
  readonly tokensFromChunk: ((chunk: Chunk) => number | undefined) | undefined;
  readonly validateRequest: Validator<Req> | undefined;
  readonly options: unknown;
  /** Whether the handler reads its signal (`abortable` not `false`). */
  readonly abortable: boolean;
  /** Its signal may be the light stand-in (`abortable: 'light'`). */
  readonly lightSignal: boolean;
}

function moduleHref(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (/^(file|data):/.test(module)) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  throw new ConfigError('service', [
    { path: '/module', rule: 'format', message: `must be a URL or an absolute path, got '${module}'` },
  ]);
}

function describeName(name: unknown): string {
  return typeof name === 'string' ? name : typeof name === 'symbol' ? 'symbol' : typeof name === 'object' && name !== null ? 'object' : String(name);
}

/** Declares a service; validates the definition at once and compiles its request schema. */
export function defineService<Req = unknown, Res = unknown, Chunk = unknown>(
  def: ServiceDefinition<Req, Res, Chunk>,
): Service<Req, Res, Chunk> {
  const issues = [];
  if (typeof def !== 'object' || def === null) throw new ConfigError('service', [{ path: '/', rule: 'type', message: 'must be an object' }]);
  if (typeof def.name !== 'string' || def.name.length === 0) issues.push({ path: '/name', rule: 'minLength', message: 'must be a non-empty string' });
  if (def.module === undefined && def.handler === undefined) issues.push({ path: '/module', rule: 'required', message: 'a service needs a handler `module` (or an inline `handler`)' });
  if (def.module !== undefined && typeof def.module !== 'string' && !(def.module instanceof URL)) {
    issues.push({ path: '/module', rule: 'type', message: `must be a URL or an absolute path, got ${def.module === null ? 'null' : typeof def.module}` });
  }
  if (def.handler !== undefined && (typeof def.handler !== 'object' || def.handler === null || (typeof def.handler.call !== 'function' && typeof def.handler.stream !== 'function'))) {
    issues.push({ path: '/handler', rule: 'type', message: 'must have a `call` or `stream` function' });
  }
  if (def.requires !== undefined && (!Array.isArray(def.requires) || def.requires.some((r) => typeof r !== 'string' || r.length === 0))) {
    issues.push({ path: '/requires', rule: 'type', message: 'must be an array of non-empty strings' });
  }
  for (const fn of ['rights', 'estimateTokens', 'tokensFromResult', 'tokensFromChunk'] as const) {
    if (def[fn] !== undefined && typeof def[fn] !== 'function') issues.push({ path: `/${fn}`, rule: 'type', message: 'must be a function' });
  }
  if (def.requestSchema !== undefined && (typeof def.requestSchema !== 'object' || def.requestSchema === null)) {
    issues.push({ path: '/requestSchema', rule: 'type', message: 'must be a JSON schema (TypeBox or plain)' });
  }
  if (def.abortable !== undefined && typeof def.abortable !== 'boolean' && def.abortable !== 'light') {
    issues.push({ path: '/abortable', rule: 'enum', message: `must be true, false or 'light', got ${typeof def.abortable === 'string' ? `'${def.abortable}'` : typeof def.abortable}` });
  }
  if (def.options !== undefined) {
    try {
      structuredClone(def.options);
    } catch {
      issues.push({ path: '/options', rule: 'type', message: 'must be structured-clone-safe (it is sent to worker threads)' });
    }
  }
  if (issues.length > 0) throw new ConfigError(`service '${describeName(def.name)}'`, issues);
  let validateRequest: Validator<Req> | undefined;
  try {
    validateRequest = def.requestSchema === undefined ? undefined : (compile(def.requestSchema) as Validator<Req>);
  } catch (err) {
    // compile() already wrapped AJV's error: keep AJV's as the cause, name the field here.
    const cause = err instanceof ConfigError ? err.cause : err;
    throw new ConfigError(`service '${def.name}'`, [{ path: '/requestSchema', rule: 'schema', message: cause instanceof Error ? cause.message : String(cause) }], { cause });
  }
  return Object.freeze({
    name: def.name,
    module: def.module === undefined ? undefined : moduleHref(def.module),
    handler: def.handler,
    requires: Object.freeze([...(def.requires ?? [])]),
    rights: def.rights,
    estimateTokens: def.estimateTokens,
    tokensFromResult: def.tokensFromResult,
    tokensFromChunk: def.tokensFromChunk,
    validateRequest,
    options: def.options,
    abortable: def.abortable !== false,
    lightSignal: def.abortable === 'light',
  });
}
