import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ConfigError } from '../core/errors.js';
import { defineService } from '../core/service.js';
import { Int, Ms } from '../core/bounds.js';
import { compile, optionsResolver } from '../core/validate.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/defaults.js';
import type { TransportKind } from '../transport/http-transport.js';
import { joinUrl, netRight } from './endpoint.js';
import { handlerModule } from './handler-module.js';
import type { HttpService } from './http-service.js';

export const JsonServiceOptionsSchema = Type.Object(
  {
    /** @default 'json' */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256, default: 'json' })),
    baseURL: Type.String({ format: 'http-url', maxLength: 2048 }),
    method: Type.Optional(Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Za-z]+$' })),
    apiKey: Type.Optional(Type.String({ maxLength: 4096 })),
    /** Extra request headers (at most 100). */
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 100 })),
    /** Whole call, ms in (0, 2^31-1]. @default 60000 */
    timeoutMs: Type.Optional(Ms({ default: 60_000 })),
    /** HTTP client: Node's own engine (undici) or node-fetch. @default 'undici' */
    transport: Type.Optional(Type.Union([Type.Literal('undici'), Type.Literal('node-fetch')], { default: 'undici' })),
    /** Redirects followed, in [0, 20]; 0 refuses them. @default 0 */
    maxRedirects: Type.Optional(Int(0, 20, { default: 0 })),
    /** Largest response body (and whole stream) in bytes, in [1, 2^31-1]. @default 67108864 (64 MiB) */
    maxResponseBytes: Type.Optional(Int(1, 2_147_483_647, { default: DEFAULT_MAX_RESPONSE_BYTES })),
    responseSchema: Type.Optional(Type.Object({})),
    estimateTokens: Type.Optional(Type.Unsafe({ callable: true })),
  },
  { additionalProperties: false },
);

export interface JsonServiceOptions extends Omit<Static<typeof JsonServiceOptionsSchema>, 'responseSchema' | 'estimateTokens'> {
  /** JSON Schema (TypeBox or plain) every response body must match; compiled once per thread. */
  responseSchema?: TSchema | Record<string, unknown>;
  /** Tokens charged at admission. @default () => 0 */
  estimateTokens?: (request: JsonRequest) => number;
}

/** One call of a JSON service. */
export interface JsonRequest {
  /** Relative to `baseURL` (or an absolute URL; its host becomes the right required). @default '' */
  path?: string;
  /** @default the service's `method`, else POST with a body and GET without */
  method?: string;
  query?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What the handler receives as `ctx.options`. */
export interface JsonEndpointOptions {
  baseURL: string;
  method: string | undefined;
  apiKey: string | undefined;
  headers: Record<string, string>;
  timeoutMs: number;
  transport: TransportKind;
  maxRedirects: number;
  maxResponseBytes: number;
  responseSchema: Record<string, unknown> | undefined;
}

const RequestSchema = Type.Object({
  path: Type.Optional(Type.String()),
  method: Type.Optional(Type.String({ minLength: 1 })),
  query: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  body: Type.Optional(Type.Unknown()),
});

const resolve = optionsResolver<typeof JsonServiceOptionsSchema, JsonServiceOptions & { name: string; timeoutMs: number; transport: TransportKind; maxRedirects: number; maxResponseBytes: number }>(JsonServiceOptionsSchema, 'json service options');

/**
 * A service for any HTTP JSON API: each call names a path (and optionally method, query, body).
 * The result is the parsed response body (validated when `responseSchema` is given); the request's
 * URL decides the right it requires (`net.out:<host>`).
 * @example jsonService({ name: 'weather', baseURL: 'https://api.example.com/v2' })
 */
export function jsonService(options: JsonServiceOptions): HttpService<JsonRequest, unknown> {
  const o = resolve(options);
  const handlerOptions: JsonEndpointOptions = {
    baseURL: o.baseURL,
    method: o.method,
    apiKey: o.apiKey,
    headers: { ...o.headers },
    timeoutMs: o.timeoutMs,
    transport: o.transport,
    maxRedirects: o.maxRedirects,
    maxResponseBytes: o.maxResponseBytes,
    responseSchema: o.responseSchema === undefined ? undefined : plainSchema(o.responseSchema),
  };
  const base = o.baseURL;
  const estimate = o.estimateTokens;
  return defineService<JsonRequest, unknown, never>({
    name: o.name,
    module: handlerModule('json'),
    requestSchema: RequestSchema,
    rights: (req) => [netRight(joinUrl(base, req.path ?? ''))],
    ...(estimate === undefined ? {} : { estimateTokens: estimate }),
    // The handler only passes its signal to the transport, which listens to it.
    abortable: 'light',
    options: handlerOptions,
  }) as HttpService<JsonRequest, unknown>;
}

/** A JSON round trip drops TypeBox's symbol keys, leaving the plain JSON Schema AJV needs; one it cannot copy (a cycle) is E_CONFIG. */
function plainSchema(schema: object): Record<string, unknown> {
  let plain: Record<string, unknown>;
  try {
    plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('json service options', [{ path: '/responseSchema', rule: 'type', message: 'must be a JSON schema (no cycles)' }], { cause: err });
  }
  // Compiled here once so a broken schema fails now, not inside a worker at the first call.
  try {
    compile(plain as TSchema);
  } catch (err) {
    const cause = err instanceof ConfigError ? err.cause : err;
    throw new ConfigError('json service options', [{ path: '/responseSchema', rule: 'schema', message: cause instanceof Error ? cause.message : String(cause) }], { cause });
  }
  return plain;
}
