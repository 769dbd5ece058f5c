import { Type, type Static } from '@sinclair/typebox';
import { assertConfig, compile } from '../core/validate.js';

export const AnthropicOptionsSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    baseURL: Type.Optional(Type.String({ pattern: '^https?://' })),
    apiKey: Type.Optional(Type.String()),
    model: Type.Optional(Type.String({ minLength: 1 })),
    /** Sent as `anthropic-version`. @default '2023-06-01' */
    version: Type.Optional(Type.String({ minLength: 1 })),
    timeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    idleTimeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    defaultMaxTokens: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/**
 * Options of `anthropic.messages`.
 * @example anthropic.messages({ model: 'claude-3-5-haiku-latest' }) // key from ANTHROPIC_API_KEY
 */
export type AnthropicOptions = Static<typeof AnthropicOptionsSchema>;

/** What the handler receives as `ctx.options` (structured-clone-safe; holds the key: never log it). */
export interface AnthropicEndpointOptions {
  baseURL: string;
  apiKey: string | undefined;
  model: string | undefined;
  timeoutMs: number;
  idleTimeoutMs: number;
  headers: Record<string, string>;
  defaultMaxTokens: number;
}

/** The API root, as the official SDK takes it (paths start with `/v1`). */
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';
const checkOptions = compile(AnthropicOptionsSchema);

/** Options with defaults: `apiKey` from `ANTHROPIC_API_KEY`, `baseURL` from `ANTHROPIC_BASE_URL`, then the API. */
export function resolveAnthropicOptions(options: AnthropicOptions = {}, env: NodeJS.ProcessEnv = process.env): AnthropicEndpointOptions {
  assertConfig(checkOptions, options, 'anthropic service options');
  return {
    baseURL: options.baseURL ?? nonEmpty(env['ANTHROPIC_BASE_URL']) ?? ANTHROPIC_BASE_URL,
    apiKey: options.apiKey ?? nonEmpty(env['ANTHROPIC_API_KEY']),
    model: options.model,
    timeoutMs: options.timeoutMs ?? 60_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
    headers: { 'anthropic-version': options.version ?? ANTHROPIC_VERSION, ...options.headers },
    defaultMaxTokens: options.defaultMaxTokens ?? 1024,
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
