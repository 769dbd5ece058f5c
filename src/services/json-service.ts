import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { defineService } from '../core/service.js';
import { assertConfig, compile } from '../core/validate.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/defaults.js';
import type { TransportKind } from '../transport/http-transport.js';
import { joinUrl, netRight } from './endpoint.js';
import { handlerModule } from './handler-module.js';
import type { HttpService } from './http-service.js';

export const JsonServiceOptionsSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    baseURL: Type.String({ pattern: '^https?://' }),
    method: Type.Optional(Type.String({ minLength: 1 })),
    apiKey: Type.Optional(Type.String()),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    timeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    transport: Type.Optional(Type.Union([Type.Literal('undici'), Type.Literal('node-fetch')])),
    maxRedirects: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
    maxResponseBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    responseSchema: Type.Optional(Type.Unknown()),
    estimateTokens: Type.Optional(Type.Unknown()),
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

const checkOptions = compile(JsonServiceOptionsSchema);

/**
 * A service for any HTTP JSON API: each call names a path (and optionally method, query, body).
 * The result is the parsed response body (validated when `responseSchema` is given); the request's
 * URL decides the right it requires (`net.out:<host>`).
 * @example jsonService({ name: 'weather', baseURL: 'https://api.example.com/v2' })
 */
export function jsonService(options: JsonServiceOptions): HttpService<JsonRequest, unknown> {
  assertConfig(checkOptions, options, 'json service options');
  const handlerOptions: JsonEndpointOptions = {
    baseURL: options.baseURL,
    method: options.method,
    apiKey: options.apiKey,
    headers: { ...options.headers },
    timeoutMs: options.timeoutMs ?? 60_000,
    transport: options.transport ?? 'undici',
    maxRedirects: options.maxRedirects ?? 0,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    // A JSON round trip drops TypeBox's symbol keys, leaving the plain JSON Schema AJV needs.
    responseSchema: options.responseSchema === undefined ? undefined : (JSON.parse(JSON.stringify(options.responseSchema)) as Record<string, unknown>),
  };
  const base = options.baseURL;
  const estimate = options.estimateTokens;
  return defineService<JsonRequest, unknown, never>({
    name: options.name ?? 'json',
    module: handlerModule('json'),
    requestSchema: RequestSchema,
    rights: (req) => [netRight(joinUrl(base, req.path ?? ''))],
    ...(estimate === undefined ? {} : { estimateTokens: estimate }),
    options: handlerOptions,
  }) as HttpService<JsonRequest, unknown>;
}
