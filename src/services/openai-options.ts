import { Type, type Static } from '@sinclair/typebox';
import { Int } from '../core/bounds.js';
import { optionsResolver } from '../core/validate.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../transport/defaults.js';
import type { TransportKind } from '../transport/http-transport.js';
import { providerOptionProperties, resolveProviderOptions, type ProviderEndpointOptions } from './provider-options.js';

export const OpenAIOptionsSchema = Type.Object(
  {
    ...providerOptionProperties,
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
export interface EndpointOptions extends ProviderEndpointOptions {
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
    ...resolveProviderOptions(o, env, { apiKey: 'OPENAI_API_KEY', baseURL: 'OPENAI_BASE_URL', defaultBaseURL: DEFAULT_BASE_URL }),
    streamUsage: o.streamUsage,
    defaultMaxTokens: o.defaultMaxTokens,
    transport: o.transport,
    maxRedirects: o.maxRedirects,
    maxResponseBytes: o.maxResponseBytes,
  };
}
