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
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
    usage: u,
  };
}

export function chatChunk(id: string, model: string, delta: Record<string, unknown>, finish: string | null, u?: Usage): unknown {
  return {
    id,
    object: 'chat.completion.chunk',
    created: created(),
    model,
    choices: u === undefined ? [{ index: 0, delta, finish_reason: finish }] : [],
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
    choices: u === undefined ? [{ index: 0, text: content, finish_reason: finish }] : [],
    ...(u === undefined ? {} : { usage: u }),
  };
}

/** Embeddings of `dims` numbers for each input. */
export function embeddings(model: string, inputs: number, dims: number, u: Usage): unknown {
  const data = [];
  for (let i = 0; i < inputs; i++) {
    const v = new Array<number>(dims);
    for (let d = 0; d < dims; d++) v[d] = Math.round(Math.sin(i * 31 + d) * 1e6) / 1e6;
    data.push({ object: 'embedding', index: i, embedding: v });
  }
  return { object: 'list', data, model, usage: { prompt_tokens: u.prompt_tokens, total_tokens: u.prompt_tokens } };
}
