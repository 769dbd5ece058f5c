import { defineService } from '../core/service.js';
import { netRight } from './endpoint.js';
import { estimateTokens } from './estimate-tokens.js';
import { handlerModule } from './handler-module.js';
import type { HttpService } from './http-service.js';
import { resolveOpenAIOptions, type OpenAIOptions } from './openai-options.js';
import {
  ChatRequestSchema,
  CompletionRequestSchema,
  EmbeddingsRequestSchema,
  type ChatChunk,
  type ChatCompletion,
  type ChatRequest,
  type Completion,
  type CompletionChunk,
  type CompletionRequest,
  type Embeddings,
  type EmbeddingsRequest,
} from './openai-schemas.js';

function make<Req, Res, Chunk>(kind: string, handler: string, requestSchema: Parameters<typeof defineService>[0]['requestSchema'], options: OpenAIOptions, completionBudget: boolean): HttpService<Req, Res, Chunk> {
  const { defaultMaxTokens, ...resolved } = resolveOpenAIOptions(options);
  const budget = completionBudget ? defaultMaxTokens : 0;
  return defineService<Req, Res, Chunk>({
    name: options.name ?? `openai.${kind}`,
    module: handlerModule(handler),
    requires: [netRight(resolved.baseURL)],
    requestSchema,
    estimateTokens: (req) => estimateTokens(req as Record<string, unknown>, budget),
    // The handler only passes its signal to the transport, which listens to it.
    abortable: 'light',
    options: resolved,
  }) as HttpService<Req, Res, Chunk>;
}

/**
 * OpenAI-compatible services. Each takes `{ baseURL, apiKey, model, ... }` (see `OpenAIOptions`;
 * `apiKey` defaults to `OPENAI_API_KEY`, `baseURL` to `OPENAI_BASE_URL`) and returns a service
 * that requires `net.out:<host>`. Results and chunks are the provider's JSON, validated.
 */
export const openai = {
  /** `POST {baseURL}/chat/completions`; `executor.call` for a completion, `executor.stream` for chunks. */
  chat(options: OpenAIOptions = {}): HttpService<ChatRequest, ChatCompletion, ChatChunk> {
    return make('chat', 'openai-chat', ChatRequestSchema, options, true);
  },
  /** `POST {baseURL}/completions` (legacy text completions); call and stream. */
  completions(options: OpenAIOptions = {}): HttpService<CompletionRequest, Completion, CompletionChunk> {
    return make('completions', 'openai-completions', CompletionRequestSchema, options, true);
  },
  /** `POST {baseURL}/embeddings`; call only. */
  embeddings(options: OpenAIOptions = {}): HttpService<EmbeddingsRequest, Embeddings> {
    return make('embeddings', 'openai-embeddings', EmbeddingsRequestSchema, options, false);
  },
} as const;
