import { openaiHandler } from '../../src/services/openai-handler.js';
import { CompletionChunkSchema, CompletionSchema } from '../../src/services/openai-schemas.js';

const handler = openaiHandler({ path: '/completions', response: CompletionSchema, chunk: CompletionChunkSchema });

export const call = handler.call;
export const stream = handler.stream!;
