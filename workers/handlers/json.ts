import { callJson } from '../../src/services/json-handler.js';

export const call = callJson;
