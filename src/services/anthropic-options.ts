import { Type, type Static } from '@sinclair/typebox';
import { Int } from '../core/bounds.js';
import { optionsResolver } from '../core/validate.js';
import { providerOptionProperties, resolveProviderOptions, type ProviderEndpointOptions } from './provider-options.js';

/** The API root, as the official SDK takes it (paths start with `/v1`). */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';

export const AnthropicOptionsSchema = Type.Object(
  {
    ...providerOptionProperties,
    /** Sent as `anthropic-version`. @default '2023-06-01' */
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64, default: ANTHROPIC_VERSION })),
    /** `max_tokens` sent when a request names none (Anthropic requires it), in [1, 10000000]. @default 1024 */
    defaultMaxTokens: Type.Optional(Int(1, 10_000_000, { default: 1024 })),
  },
  { additionalProperties: false },
);

/**
 * Options of `anthropic.messages`.
 * @example anthropic.messages({ model: 'claude-3-5-haiku-latest' }) // key from ANTHROPIC_API_KEY
 */
export type AnthropicOptions = Static<typeof AnthropicOptionsSchema>;

/** What the handler receives as `ctx.options` (structured-clone-safe; holds the key: never log it). */
export interface AnthropicEndpointOptions extends ProviderEndpointOptions {
  defaultMaxTokens: number;
}

const resolve = optionsResolver<typeof AnthropicOptionsSchema, AnthropicOptions & Required<Pick<AnthropicOptions, 'timeoutMs' | 'idleTimeoutMs' | 'version' | 'defaultMaxTokens'>>>(
  AnthropicOptionsSchema,
  'anthropic service options',
);

/** Options with defaults: `apiKey` from `ANTHROPIC_API_KEY`, `baseURL` from `ANTHROPIC_BASE_URL`, then the API. */
export function resolveAnthropicOptions(options: AnthropicOptions = {}, env: NodeJS.ProcessEnv = process.env): AnthropicEndpointOptions {
  const o = resolve(options);
  const shared = resolveProviderOptions(o, env, { apiKey: 'ANTHROPIC_API_KEY', baseURL: 'ANTHROPIC_BASE_URL', defaultBaseURL: ANTHROPIC_BASE_URL });
  return { ...shared, headers: { 'anthropic-version': o.version, ...shared.headers }, defaultMaxTokens: o.defaultMaxTokens };
}
