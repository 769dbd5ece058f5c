import { anthropicHandler } from '../../src/services/anthropic-handler.js';

const handler = anthropicHandler();

export const call = handler.call;
export const stream = handler.stream;
