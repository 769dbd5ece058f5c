import { Type, type Static } from '@sinclair/typebox';
import { assertConfig, compile } from '../core/validate.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/defaults.js';
import type { TransportKind } from '../transport/http-transport.js';

export const OpenAIOptionsSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    baseURL: Type.Optional(Type.String({ pattern: '^https?://' })),
    apiKey: Type.Optional(Type.String()),
    model: Type.Optional(Type.String({ minLength: 1 })),
    timeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    idleTimeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    defaultMaxTokens: Type.Optional(Type.Integer({ minimum: 0 })),
    streamUsage: Type.Optional(Type.Boolean()),
    transport: Type.Optional(Type.Union([Type.Literal('undici'), Type.Literal('node-fetch')])),
    maxRedirects: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
    maxResponseBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/**
 * Options of `openai.chat`, `openai.completions` and `openai.embeddings`.
 * @example openai.chat({ model: 'gpt-4o-mini' }) // key and base URL from the environment
 */
export type OpenAIOptions = Static<typeof OpenAIOptionsSchema>;

/** What the handler receives as `ctx.options` (structured-clone-safe; holds the key: never log it). */
export interface EndpointOptions {
  baseURL: string;
  apiKey: string | undefined;
  model: string | undefined;
  timeoutMs: number;
  idleTimeoutMs: number;
  headers: Record<string, string>;
  streamUsage: boolean;
  transport: TransportKind;
  maxRedirects: number;
  maxResponseBytes: number;
}

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const checkOptions = compile(OpenAIOptionsSchema);

/**
 * Options with defaults: `apiKey` from `OPENAI_API_KEY`, `baseURL` from `OPENAI_BASE_URL`
 * (then the OpenAI API), timeouts 60 s (whole call / until stream headers) and 30 s idle, the
 * undici transport, redirects refused, bodies (and whole streams) up to 64 MiB.
 */
export function resolveOpenAIOptions(options: OpenAIOptions = {}, env: NodeJS.ProcessEnv = process.env): EndpointOptions {
  assertConfig(checkOptions, options, 'openai service options');
  return {
    baseURL: options.baseURL ?? nonEmpty(env['OPENAI_BASE_URL']) ?? DEFAULT_BASE_URL,
    apiKey: options.apiKey ?? nonEmpty(env['OPENAI_API_KEY']),
    model: options.model,
    timeoutMs: options.timeoutMs ?? 60_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    headers: { ...options.headers },
    streamUsage: options.streamUsage ?? true,
    transport: options.transport ?? 'undici',
    maxRedirects: options.maxRedirects ?? 0,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
