import { openaiHandler } from '../../src/services/openai-handler.js';
import { ChatChunkSchema, ChatCompletionSchema } from '../../src/services/openai-schemas.js';

const handler = openaiHandler({ path: '/chat/completions', response: ChatCompletionSchema, chunk: ChatChunkSchema });

export const call = handler.call;
export const stream = handler.stream!;
