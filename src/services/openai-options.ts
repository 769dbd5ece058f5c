import { Type, type Static } from '@sinclair/typebox';
import { Int, Ms } from '../core/bounds.js';
import { optionsResolver } from '../core/validate.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/defaults.js';
import type { TransportKind } from '../transport/http-transport.js';

export const OpenAIOptionsSchema = Type.Object(
  {
    /** The service's name. @default 'openai.<kind>' */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** @default `OPENAI_BASE_URL`, then 'https://api.openai.com/v1' */
    baseURL: Type.Optional(Type.String({ format: 'http-url', maxLength: 2048 })),
    /** @default `OPENAI_API_KEY` */
    apiKey: Type.Optional(Type.String({ maxLength: 4096 })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Whole call, or until a stream's headers, ms in (0, 2^31-1]. @default 60000 */
    timeoutMs: Type.Optional(Ms({ default: 60_000 })),
    /** Longest silence between stream chunks, ms in (0, 2^31-1]. @default 30000 */
    idleTimeoutMs: Type.Optional(Ms({ default: 30_000 })),
    /** Extra request headers (at most 100). */
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 100 })),
    /** Completion tokens charged at admission when a request names no `max_tokens`, in [0, 10000000]. @default 256 */
    defaultMaxTokens: Type.Optional(Int(0, 10_000_000, { default: 256 })),
    /** Ask for usage in the last stream chunk (`stream_options.include_usage`). @default true */
    streamUsage: Type.Optional(Type.Boolean({ default: true })),
    /** HTTP client: Node's own engine (undici) or node-fetch. @default 'undici' */
    transport: Type.Optional(Type.Union([Type.Literal('undici'), Type.Literal('node-fetch')], { default: 'undici' })),
    /** Redirects followed, in [0, 20]; 0 refuses them. @default 0 */
    maxRedirects: Type.Optional(Int(0, 20, { default: 0 })),
    /** Largest response body (and whole stream) in bytes, in [1, 2^31-1]. @default 67108864 (64 MiB) */
    maxResponseBytes: Type.Optional(Int(1, 2_147_483_647, { default: DEFAULT_MAX_RESPONSE_BYTES })),
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
const resolve = optionsResolver<typeof OpenAIOptionsSchema, OpenAIOptions & Required<Pick<OpenAIOptions, 'timeoutMs' | 'idleTimeoutMs' | 'defaultMaxTokens' | 'streamUsage' | 'transport' | 'maxRedirects' | 'maxResponseBytes'>>>(
  OpenAIOptionsSchema,
  'openai service options',
);

/**
 * Options with defaults: `apiKey` from `OPENAI_API_KEY`, `baseURL` from `OPENAI_BASE_URL`
 * (then the OpenAI API), timeouts 60 s (whole call / until stream headers) and 30 s idle, the
 * undici transport, redirects refused, bodies (and whole streams) up to 64 MiB.
 */
export function resolveOpenAIOptions(options: OpenAIOptions = {}, env: NodeJS.ProcessEnv = process.env): EndpointOptions & { defaultMaxTokens: number } {
  const o = resolve(options);
  return {
    // The environment is read at call time, so these two defaults cannot live in the schema.
    baseURL: o.baseURL ?? nonEmpty(env['OPENAI_BASE_URL']) ?? DEFAULT_BASE_URL,
    apiKey: o.apiKey ?? nonEmpty(env['OPENAI_API_KEY']),
    model: o.model,
    timeoutMs: o.timeoutMs,
    idleTimeoutMs: o.idleTimeoutMs,
    headers: { ...o.headers },
    streamUsage: o.streamUsage,
    defaultMaxTokens: o.defaultMaxTokens,
    transport: o.transport,
    maxRedirects: o.maxRedirects,
    maxResponseBytes: o.maxResponseBytes,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
