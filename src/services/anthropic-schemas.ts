import { Type, type Static } from '@sinclair/typebox';

/**
 * Shapes of Anthropic's Messages API. As with the OpenAI shapes, a response schema requires only
 * what callpool reads (`content` of a message, `type` of a stream event) and passes everything
 * else through, so new block types and fields never break a call.
 */

const Usage = Type.Object({
  input_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  output_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  cache_creation_input_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  cache_read_input_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
});
export type AnthropicUsage = Static<typeof Usage>;

export const MessagesRequestSchema = Type.Object({
  model: Type.Optional(Type.String({ minLength: 1 })),
  messages: Type.Array(Type.Object({ role: Type.String(), content: Type.Union([Type.String(), Type.Array(Type.Unknown())]) }), { minItems: 1 }),
  /** Required by the API; the service fills in its `defaultMaxTokens` when a request has none. */
  max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  system: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Unknown())])),
});
export type MessagesRequest = Static<typeof MessagesRequestSchema> & Record<string, unknown>;

const ContentBlock = Type.Object({ type: Type.String(), text: Type.Optional(Type.String()) });

export const MessageSchema = Type.Object({
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  content: Type.Array(ContentBlock),
  stop_reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  usage: Type.Optional(Usage),
});
export type Message = Static<typeof MessageSchema>;

/**
 * One stream event: `message_start` (with the message and its input usage),
 * `content_block_start`, `content_block_delta` (`delta.type: 'text_delta'` and `delta.text`),
 * `content_block_stop`, `message_delta` (stop reason and cumulative output usage),
 * `message_stop`, `ping`; `error` events fail the stream.
 */
export const MessageEventSchema = Type.Object({
  type: Type.String(),
  index: Type.Optional(Type.Integer({ minimum: 0 })),
  message: Type.Optional(Type.Object({ usage: Type.Optional(Usage) })),
  delta: Type.Optional(Type.Object({ type: Type.Optional(Type.String()), text: Type.Optional(Type.String()), stop_reason: Type.Optional(Type.Union([Type.String(), Type.Null()])) })),
  content_block: Type.Optional(ContentBlock),
  usage: Type.Optional(Usage),
});
export type MessageEvent = Static<typeof MessageEventSchema>;
