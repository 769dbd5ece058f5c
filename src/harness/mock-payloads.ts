/** Bodies the mock upstream sends, in the OpenAI shapes, of a chosen size. */

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ';
const texts = new Map<number, string>();

/** `n` characters of plain text (cached: the same few sizes are asked for again and again). */
export function text(n: number): string {
  let s = texts.get(n);
  if (s === undefined) {
    s = WORDS.repeat(Math.ceil(n / WORDS.length) + 1).slice(0, n);
    if (texts.size > 64) texts.clear();
    texts.set(n, s);
  }
  return s;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptChars: number, completionChars: number): Usage {
  const p = Math.ceil(promptChars / 4);
  const c = Math.ceil(completionChars / 4);
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

const created = () => Math.floor(Date.now() / 1000);

export function chatCompletion(id: string, model: string, content: string, u: Usage): unknown {
  return {
    id,
    object: 'chat.completion',
    created: created(),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: u,
  };
}

export function chatChunk(id: string, model: string, delta: Record<string, unknown>, finish: string | null, u?: Usage): unknown {
  return {
    id,
    object: 'chat.completion.chunk',
    created: created(),
    model,
    choices: u === undefined ? [{ index: 0, delta, finish_reason: finish, logprobs: null }] : [],
    ...(u === undefined ? {} : { usage: u }),
  };
}

export function completion(id: string, model: string, content: string, u: Usage): unknown {
  return { id, object: 'text_completion', created: created(), model, choices: [{ index: 0, text: content, finish_reason: 'stop', logprobs: null }], usage: u };
}

export function completionChunk(id: string, model: string, content: string, finish: string | null, u?: Usage): unknown {
  return {
    id,
    object: 'text_completion',
    created: created(),
    model,
    choices: u === undefined ? [{ index: 0, text: content, finish_reason: finish, logprobs: null }] : [],
    ...(u === undefined ? {} : { usage: u }),
  };
}

/**
 * Embeddings of `dims` numbers for each input; with `base64`, each vector is the base64 of its
 * little-endian float32 bytes, as the API sends for `encoding_format: 'base64'` (what the
 * official clients ask for by default).
 */
export function embeddings(model: string, inputs: number, dims: number, u: Usage, base64 = false): unknown {
  const data = [];
  for (let i = 0; i < inputs; i++) {
    const v = new Array<number>(dims);
    for (let d = 0; d < dims; d++) v[d] = Math.round(Math.sin(i * 31 + d) * 1e6) / 1e6;
    data.push({ object: 'embedding', index: i, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v });
  }
  return { object: 'list', data, model, usage: { prompt_tokens: u.prompt_tokens, total_tokens: u.prompt_tokens } };
}

/** `GET /v1/models`. */
export function models(): unknown {
  const at = 1_700_000_000;
  return { object: 'list', data: ['mock-model', 'gpt-4o-mini', 'text-embedding-3-small', 'claude-3-5-haiku-latest'].map((id) => ({ id, object: 'model', created: at, owned_by: 'callpool-mock' })) };
}

/** Anthropic usage from the same counts: input and output tokens, no cache use. */
function anthropicUsage(u: Usage, output = u.completion_tokens) {
  return { input_tokens: u.prompt_tokens, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

/** An Anthropic Messages API message. */
export function message(id: string, model: string, content: string, u: Usage): unknown {
  return { id, type: 'message', role: 'assistant', model, content: [{ type: 'text', text: content }], stop_reason: 'end_turn', stop_sequence: null, usage: anthropicUsage(u) };
}

/** Anthropic's stream events, in order, as `[event name, data]` pairs. */
export function messageEvents(id: string, model: string, parts: readonly string[], u: Usage): [string, unknown][] {
  const out: [string, unknown][] = [
    ['message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(u, 1) } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', { type: 'ping' }],
  ];
  for (const text of parts) out.push(['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }]);
  out.push(['content_block_stop', { type: 'content_block_stop', index: 0 }]);
  out.push(['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.completion_tokens } }]);
  out.push(['message_stop', { type: 'message_stop' }]);
  return out;
}

/** Anthropic's error body: `{ type: 'error', error: { type, message } }`. */
export function anthropicError(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: null });
}

/** The Anthropic error type of a status, as its API documents them. */
export function anthropicErrorType(status: number): string {
  const types: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error' };
  return types[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}
