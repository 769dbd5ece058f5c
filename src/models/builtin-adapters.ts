import { Type } from '@sinclair/typebox';
import { Fn } from '../core/bounds.js';
import { ConfigError } from '../core/errors.js';
import type { LimitsConfig } from '../core/schemas.js';
import { assertConfig, compile } from '../core/validate.js';
import { anthropic } from '../services/anthropic.js';
import { jsonService } from '../services/json-service.js';
import { openai } from '../services/openai.js';
import type { AdapterConfig, ProviderAdapter } from './adapter.js';

const MINUTE = 60_000;
const perMinute = (requests: number, tokens?: number): LimitsConfig => ({
  requests: { limit: requests, windowMs: MINUTE },
  ...(tokens === undefined ? {} : { tokens: { limit: tokens, windowMs: MINUTE } }),
});

const openaiOptions = (c: AdapterConfig, base: string | undefined) => ({
  model: c.model,
  ...(c.apiKey === undefined ? {} : { apiKey: c.apiKey }),
  ...((c.baseURL ?? base) === undefined ? {} : { baseURL: (c.baseURL ?? base)! }),
  headers: c.headers,
  ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
});

const OpenAICompatibleSpecSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    apiKeyEnv: Type.Optional(Type.String({ minLength: 1 })),
    baseURLEnv: Type.Optional(Type.String({ minLength: 1 })),
    defaultBaseURL: Type.Optional(Type.String({ format: 'http-url' })),
    limits: Type.Optional(Fn<(model: string) => LimitsConfig | undefined>()),
    host: Type.Optional(Fn<(url: URL) => boolean>()),
  },
  { additionalProperties: false },
);
const validSpec = compile(OpenAICompatibleSpecSchema, { lazy: true });

/**
 * An adapter for an OpenAI-compatible server (`/chat/completions`, Bearer key).
 * @throws ConfigError (`E_CONFIG`) naming each bad field of `spec`
 */
export function openaiCompatible(spec: { name: string; apiKeyEnv?: string; baseURLEnv?: string; defaultBaseURL?: string; limits?: (model: string) => LimitsConfig | undefined; host?: (url: URL) => boolean }): ProviderAdapter {
  assertConfig(validSpec, spec, 'OpenAI-compatible provider');
  return {
    name: spec.name,
    ...(spec.apiKeyEnv === undefined ? {} : { apiKeyEnv: spec.apiKeyEnv }),
    ...(spec.baseURLEnv === undefined ? {} : { baseURLEnv: spec.baseURLEnv }),
    ...(spec.defaultBaseURL === undefined ? {} : { defaultBaseURL: spec.defaultBaseURL }),
    defaultLimits: (model) => spec.limits?.(model),
    service: (c) => openai.chat({ name: `${spec.name}.chat`, ...openaiOptions(c, spec.defaultBaseURL) }),
    ...(spec.host === undefined ? {} : { matchesBaseURL: spec.host }),
  };
}

/**
 * OpenAI. Limits: usage tier 1 as OpenAI documents it — 500 requests and 200,000 tokens a
 * minute for gpt-4o-mini and most chat models, 30,000 tokens for gpt-4o-class models.
 */
export const openaiAdapter = openaiCompatible({
  name: 'openai',
  apiKeyEnv: 'OPENAI_API_KEY',
  baseURLEnv: 'OPENAI_BASE_URL',
  defaultBaseURL: 'https://api.openai.com/v1',
  limits: (model) => perMinute(500, /^(gpt-4o|gpt-4\.1|o\d)(?!-mini)/.test(model) ? 30_000 : 200_000),
  host: (u) => u.hostname === 'api.openai.com',
});

/**
 * Anthropic's Messages API. Limits: tier 1 as Anthropic documents it — 50 requests a minute and
 * 30,000 input tokens a minute (Sonnet-class models; callpool's token window counts input and
 * output together, so this is on the safe side). `anthropic-ratelimit-*` headers tighten it.
 */
export const anthropicAdapter: ProviderAdapter = {
  name: 'anthropic',
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  baseURLEnv: 'ANTHROPIC_BASE_URL',
  defaultBaseURL: 'https://api.anthropic.com',
  defaultLimits: () => perMinute(50, 30_000),
  service: (c) =>
    anthropic.messages({
      model: c.model,
      ...(c.apiKey === undefined ? {} : { apiKey: c.apiKey }),
      ...(c.baseURL === undefined ? {} : { baseURL: c.baseURL }),
      headers: c.headers,
      ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
    }),
  matchesBaseURL: (u) => u.hostname === 'api.anthropic.com',
};

/** Any JSON API: `model('json/<name>', { baseURL })`; a call is `{ path?, method?, query?, body? }`. No streams. */
export const jsonAdapter: ProviderAdapter = {
  name: 'json',
  apiKeyEnv: 'CALLPOOL_JSON_API_KEY',
  streams: false,
  service: (c) => {
    if (c.baseURL === undefined) throw new ConfigError(`model 'json/${c.model}'`, [{ path: '/baseURL', rule: 'required', message: 'a JSON API has no default base URL: pass baseURL' }]);
    return jsonService({
      name: `json.${c.model}`,
      baseURL: c.baseURL,
      ...(c.apiKey === undefined ? {} : { apiKey: c.apiKey }),
      headers: c.headers,
      ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
    });
  },
};

/**
 * OpenAI-compatible servers by name. Limits: Groq's free tier (30 requests and 6,000 tokens a
 * minute); OpenRouter and the self-hosted servers document none, so the handle sets none.
 */
export const compatibleAdapters: ProviderAdapter[] = [
  openaiCompatible({ name: 'groq', apiKeyEnv: 'GROQ_API_KEY', defaultBaseURL: 'https://api.groq.com/openai/v1', limits: () => perMinute(30, 6_000), host: (u) => u.hostname === 'api.groq.com' }),
  openaiCompatible({ name: 'openrouter', apiKeyEnv: 'OPENROUTER_API_KEY', defaultBaseURL: 'https://openrouter.ai/api/v1', host: (u) => u.hostname === 'openrouter.ai' }),
  openaiCompatible({ name: 'ollama', apiKeyEnv: 'OLLAMA_API_KEY', baseURLEnv: 'OLLAMA_BASE_URL', defaultBaseURL: 'http://127.0.0.1:11434/v1', host: (u) => u.port === '11434' }),
  openaiCompatible({ name: 'vllm', apiKeyEnv: 'VLLM_API_KEY', baseURLEnv: 'VLLM_BASE_URL', defaultBaseURL: 'http://127.0.0.1:8000/v1' }),
  openaiCompatible({ name: 'llamacpp', apiKeyEnv: 'LLAMA_API_KEY', baseURLEnv: 'LLAMA_BASE_URL', defaultBaseURL: 'http://127.0.0.1:8080/v1' }),
  openaiCompatible({ name: 'litellm', apiKeyEnv: 'LITELLM_API_KEY', baseURLEnv: 'LITELLM_BASE_URL', defaultBaseURL: 'http://127.0.0.1:4000/v1' }),
];
