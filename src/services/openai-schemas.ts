import { Type, type Static } from '@sinclair/typebox';

/**
 * Shapes of OpenAI-compatible requests and responses. A response schema requires only what
 * callpool itself reads (the `choices` list and, in it, the `message` / `delta` / `text` that
 * carries the content) and passes everything else through: servers omit `id`, `index`,
 * `finish_reason` or `usage` fields (mock-llm, Ollama, older vLLM) and add their own, and the
 * official clients accept those bodies, so callpool must too. A response of the wrong kind (no
 * `choices`, an error object) still fails at once with a clear error.
 */

/** Every count optional: only `total_tokens` is read (to reconcile the token limiter). */
const Usage = Type.Object({
  prompt_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  completion_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  total_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Usage = Static<typeof Usage>;
const MaybeUsage = Type.Optional(Type.Union([Usage, Type.Null()]));
const Text = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const Index = Type.Optional(Type.Integer({ minimum: 0 }));
const Finish = Type.Optional(Type.Union([Type.String(), Type.Null()]));

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
  id: Type.Optional(Type.String()),
  object: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Index,
      message: Type.Object({ role: Type.Optional(Type.String()), content: Text, refusal: Text }),
      finish_reason: Finish,
    }),
  ),
  usage: MaybeUsage,
});
export type ChatCompletion = Static<typeof ChatCompletionSchema>;

export const ChatChunkSchema = Type.Object({
  id: Type.Optional(Type.String()),
  object: Type.Optional(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Index,
      delta: Type.Object({ role: Type.Optional(Type.String()), content: Text, refusal: Text }),
      finish_reason: Finish,
    }),
  ),
  usage: MaybeUsage,
});
export type ChatChunk = Static<typeof ChatChunkSchema>;

export const CompletionSchema = Type.Object({
  id: Type.Optional(Type.String()),
  object: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  choices: Type.Array(Type.Object({ index: Index, text: Type.String(), finish_reason: Finish })),
  usage: MaybeUsage,
});
export type Completion = Static<typeof CompletionSchema>;

/** A streamed completion chunk has the same shape as the completion itself. */
export const CompletionChunkSchema = Type.Object({
  id: Type.Optional(Type.String()),
  choices: Type.Array(Type.Object({ index: Index, text: Type.String(), finish_reason: Finish })),
  usage: MaybeUsage,
});
export type CompletionChunk = Static<typeof CompletionChunkSchema>;

/** `embedding` is numbers, or base64 of little-endian float32 with `encoding_format: 'base64'`. */
export const EmbeddingsSchema = Type.Object({
  object: Type.Optional(Type.String()),
  data: Type.Array(Type.Object({ index: Index, embedding: Type.Union([Type.Array(Type.Number()), Type.String()]) })),
  model: Type.Optional(Type.String()),
  usage: MaybeUsage,
});
export type Embeddings = Static<typeof EmbeddingsSchema>;
