import { defineService } from '../core/service.js';
import { resolveAnthropicOptions, type AnthropicOptions } from './anthropic-options.js';
import { MessagesRequestSchema, type Message, type MessageEvent, type MessagesRequest } from './anthropic-schemas.js';
import { netRight } from './endpoint.js';
import { estimateTokens } from './estimate-tokens.js';
import { handlerModule } from './handler-module.js';
import type { HttpService } from './http-service.js';

/** Anthropic's native API. `apiKey` defaults to `ANTHROPIC_API_KEY`, `baseURL` to `ANTHROPIC_BASE_URL`. */
export const anthropic = {
  /**
   * `POST {baseURL}/v1/messages`: `executor.call` for a message, `executor.stream` for its SSE
   * events (`message_start`, `content_block_delta`, `message_delta`, `message_stop`, ...).
   */
  messages(options: AnthropicOptions = {}): HttpService<MessagesRequest, Message, MessageEvent> {
    const resolved = resolveAnthropicOptions(options);
    return defineService<MessagesRequest, Message, MessageEvent>({
      name: options.name ?? 'anthropic.messages',
      module: handlerModule('anthropic-messages'),
      requires: [netRight(resolved.baseURL)],
      requestSchema: MessagesRequestSchema,
      // The system prompt counts like the messages; the budget is max_tokens (always sent).
      estimateTokens: (req) => estimateTokens({ messages: req.messages, input: req.system, max_tokens: req.max_tokens }, resolved.defaultMaxTokens),
      // The handler only passes its signal to the transport, which listens to it.
      abortable: 'light',
      options: resolved,
    }) as HttpService<MessagesRequest, Message, MessageEvent>;
  },
} as const;
