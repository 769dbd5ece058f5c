import { Type } from '@sinclair/typebox';
import { Ms } from '../core/bounds.js';

/**
 * The options every provider service shares (`openai.*`, `anthropic.messages`), written once:
 * their schema properties, what the handler receives of them, and their defaults from the
 * provider's environment variables.
 */
export const providerOptionProperties = {
  /** The service's name. @default the factory's name, e.g. 'openai.chat' */
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  /** The API root. @default the provider's `*_BASE_URL`, then its public API */
  baseURL: Type.Optional(Type.String({ format: 'http-url', maxLength: 2048 })),
  /** @default the provider's `*_API_KEY` */
  apiKey: Type.Optional(Type.String({ maxLength: 4096 })),
  /** Used when a request names none. */
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  /** Whole call, or until a stream's headers, ms in (0, 2^31-1]. @default 60000 */
  timeoutMs: Type.Optional(Ms({ default: 60_000 })),
  /** Longest silence between stream chunks, ms in (0, 2^31-1]. @default 30000 */
  idleTimeoutMs: Type.Optional(Ms({ default: 30_000 })),
  /** Extra request headers (at most 100). */
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 100 })),
};

/** What a provider handler receives of the shared options (structured-clone-safe; holds the key: never log it). */
export interface ProviderEndpointOptions {
  baseURL: string;
  apiKey: string | undefined;
  model: string | undefined;
  timeoutMs: number;
  idleTimeoutMs: number;
  headers: Record<string, string>;
}

/** The shared options with their defaults, the schema's already filled in. */
export function resolveProviderOptions(
  o: { baseURL?: string | undefined; apiKey?: string | undefined; model?: string | undefined; timeoutMs: number; idleTimeoutMs: number; headers?: Record<string, string> | undefined },
  env: NodeJS.ProcessEnv,
  vars: { apiKey: string; baseURL: string; defaultBaseURL: string },
): ProviderEndpointOptions {
  return {
    // The environment is read at call time, so these two defaults cannot live in the schema.
    baseURL: o.baseURL ?? envValue(env, vars.baseURL) ?? vars.defaultBaseURL,
    apiKey: o.apiKey ?? envValue(env, vars.apiKey),
    model: o.model,
    timeoutMs: o.timeoutMs,
    idleTimeoutMs: o.idleTimeoutMs,
    headers: { ...o.headers },
  };
}

/** The variable `name` of `env`; an empty one counts as unset. */
export function envValue(env: NodeJS.ProcessEnv, name: string | undefined): string | undefined {
  const v = name === undefined ? undefined : env[name];
  return v === '' ? undefined : v;
}
