import { Type, type Static } from '@sinclair/typebox';

/**
 * Shapes of OpenAI-compatible requests and responses. They require what callpool and its users
 * read and allow anything else (providers add fields all the time), so a provider upgrade does
 * not break calls while a response of the wrong kind fails at once with a clear error.
 */

const Usage = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  total_tokens: Type.Integer({ minimum: 0 }),
});
export type Usage = Static<typeof Usage>;

const Message = Type.Object({
  role: Type.String(),
  content: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Unknown()), Type.Null()])),
});

export const ChatRequestSchema = Type.Object({
  model: Type.Optional(Type.String({ minLength: 1 })),
  messages: Type.Array(Message, { minItems: 1 }),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type ChatRequest = Static<typeof ChatRequestSchema> & Record<string, unknown>;

export const CompletionRequestSchema = Type.Object({
  model: Type.Optional(Type.String({ minLength: 1 })),
  prompt: Type.Union([Type.String(), Type.Array(Type.String())]),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type CompletionRequest = Static<typeof CompletionRequestSchema> & Record<string, unknown>;

export const EmbeddingsRequestSchema = Type.Object({
  model: Type.Optional(Type.String({ minLength: 1 })),
  input: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 }), Type.Array(Type.Integer()), Type.Array(Type.Array(Type.Integer()))]),
});
export type EmbeddingsRequest = Static<typeof EmbeddingsRequestSchema> & Record<string, unknown>;

export const ChatCompletionSchema = Type.Object({
  id: Type.String(),
  object: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      message: Type.Object({
        role: Type.String(),
        content: Type.Union([Type.String(), Type.Null()]),
      }),
      finish_reason: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  usage: Type.Optional(Usage),
});
export type ChatCompletion = Static<typeof ChatCompletionSchema>;

export const ChatChunkSchema = Type.Object({
  id: Type.String(),
  object: Type.Optional(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      delta: Type.Object({ role: Type.Optional(Type.String()), content: Type.Optional(Type.Union([Type.String(), Type.Null()])) }),
      finish_reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
  ),
  usage: Type.Optional(Type.Union([Usage, Type.Null()])),
});
export type ChatChunk = Static<typeof ChatChunkSchema>;

export const CompletionSchema = Type.Object({
  id: Type.String(),
  object: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      text: Type.String(),
      finish_reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    }),
  ),
  usage: Type.Optional(Usage),
});
export type Completion = Static<typeof CompletionSchema>;

/** A streamed completion chunk has the same shape as the completion itself. */
export const CompletionChunkSchema = Type.Object({
  id: Type.String(),
  choices: Type.Array(Type.Object({ index: Type.Integer({ minimum: 0 }), text: Type.String() })),
  usage: Type.Optional(Type.Union([Usage, Type.Null()])),
});
export type CompletionChunk = Static<typeof CompletionChunkSchema>;

export const EmbeddingsSchema = Type.Object({
  object: Type.Optional(Type.String()),
  data: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      embedding: Type.Union([Type.Array(Type.Number()), Type.String()]),
    }),
  ),
  model: Type.Optional(Type.String()),
  usage: Type.Optional(Type.Object({ prompt_tokens: Type.Integer({ minimum: 0 }), total_tokens: Type.Integer({ minimum: 0 }) })),
});
export type Embeddings = Static<typeof EmbeddingsSchema>;
