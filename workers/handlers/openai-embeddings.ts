import { openaiHandler } from '../../src/services/openai-handler.js';
import { EmbeddingsSchema } from '../../src/services/openai-schemas.js';

export const call = openaiHandler({ path: '/embeddings', response: EmbeddingsSchema }).call;
