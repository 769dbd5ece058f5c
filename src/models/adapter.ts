import type { LimitsConfig } from '../core/schemas.js';
import type { Service } from '../core/service.js';

/** A service of any request, result and chunk types (`any`: each adapter's types differ). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyService = Service<any, any, any>;

/** What an adapter is given to build the service a model handle calls. */
export interface AdapterConfig {
  /** The model name after the provider prefix (`gpt-4o-mini` of `openai/gpt-4o-mini`). */
  model: string;
  /** The key: the handle's `apiKey`, else the adapter's `apiKeyEnv` variable. */
  apiKey: string | undefined;
  /** The handle's `baseURL`, else the adapter's `baseURLEnv` variable, else its default. */
  baseURL: string | undefined;
  headers: Record<string, string>;
  /** Per attempt: the whole exchange (call) or until the headers (stream). */
  timeoutMs: number | undefined;
}

/**
 * A provider: how a prefix (`openai`, `anthropic`, ...) becomes a service. `service` runs on the
 * main thread; the service it returns names a handler module that runs in the pool.
 * @example register({ name: 'acme', apiKeyEnv: 'ACME_API_KEY', service: (c) => openai.chat({ ...c, baseURL: c.baseURL ?? 'https://api.acme.test/v1' }) })
 */
export interface ProviderAdapter {
  /** The prefix: lower case letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  /** Environment variable holding the key (`OPENAI_API_KEY`). */
  readonly apiKeyEnv?: string;
  /** Environment variable holding the base URL (`OPENAI_BASE_URL`). */
  readonly baseURLEnv?: string;
  /** Where the provider lives when neither the handle nor the environment says. */
  readonly defaultBaseURL?: string;
  /** The provider's documented limits for a new account; the handle uses them when given none. */
  defaultLimits?(model: string): LimitsConfig | undefined;
  /** The service the handle calls; one that has no `stream` side makes `handle.stream` fail. */
  service(config: AdapterConfig): AnyService;
  /** Whether the handle's `stream` works with this adapter. @default true */
  readonly streams?: boolean;
  /** True when a base URL is this provider's (used for names without a known prefix). */
  matchesBaseURL?(url: URL): boolean;
}
