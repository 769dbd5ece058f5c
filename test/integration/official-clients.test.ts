/**
 * The official `openai` (v6) and `@anthropic-ai/sdk` clients against the embedded upstream: it
 * must answer like the real APIs, so code written for them runs against it unchanged.
 */
import test from 'ava';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startMockUpstream, type MockUpstream } from '../../src/index.js';

const KEY = 'sk-test-official-clients';

async function upstream(t: { teardown(fn: () => unknown): void }, options: Parameters<typeof startMockUpstream>[0] = {}): Promise<MockUpstream> {
  const up = await startMockUpstream({ apiKey: KEY, ...options });
  t.teardown(() => up.close());
  return up;
}
const openaiClient = (up: MockUpstream) => new OpenAI({ apiKey: KEY, baseURL: up.baseURL, maxRetries: 0 });
const anthropicClient = (up: MockUpstream, apiKey = KEY) => new Anthropic({ apiKey, baseURL: up.url, maxRetries: 0 });

test('openai client - chat completion with refusal null and a request id', async (t) => {
  const up = await upstream(t);
  const { data, request_id } = await openaiClient(up).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  t.is(data.choices[0]!.message.content, 'lorem ipsum dolor sit amet conse');
  t.is(data.choices[0]!.message.refusal, null);
  t.is(data.usage?.total_tokens, 10);
  t.regex(request_id ?? '', /^req_mock_/);
});

test('openai client - a chat stream: every chunk has choices[].logprobs, the last carries usage', async (t) => {
  const up = await upstream(t, { routes: { chat: { stream: { chunks: 3, chunkBytes: 5 } } } });
  const stream = await openaiClient(up).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage: number | undefined;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      t.true('logprobs' in c);
      text += c.delta.content ?? '';
    }
    if (chunk.usage) usage = chunk.usage.total_tokens;
  }
  t.is(text, 'lorem ipsum dol');
  // 'user' + 'hi' -> 2 prompt tokens; 15 characters -> 4 completion tokens.
  t.is(usage, 6);
});

test('openai client - completions stream chunks carry choices[].logprobs', async (t) => {
  const up = await upstream(t, { routes: { completions: { stream: { chunks: 2, chunkBytes: 4 } } } });
  const stream = await openaiClient(up).completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi', stream: true });
  let text = '';
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      t.true('logprobs' in c);
      text += c.text;
    }
  }
  t.is(text, 'lorem ip');
});

test('openai client - embeddings: base64 by default (decoded to the same floats), float when asked', async (t) => {
  const up = await upstream(t, { routes: { embeddings: { dimensions: 4 } } });
  const client = openaiClient(up);
  // The client asks for base64 when no encoding_format is given, and decodes it itself.
  const b64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
  const float = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' });
  t.is(b64.data.length, 2);
  const expected = [0, 0.841471, 0.909297, 0.14112];
  float.data[0]!.embedding.forEach((v, i) => t.is(v, expected[i]!));
  // float32 round trip: equal to 1e-6.
  b64.data[0]!.embedding.forEach((v, i) => t.true(Math.abs(v - expected[i]!) < 1e-6, `dim ${i}: ${v}`));
  t.notDeepEqual(b64.data[1]!.embedding, [0, 0, 0, 0]);
  const raw = await fetch(`${up.baseURL}/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'a', encoding_format: 'base64' }) });
  t.is(typeof ((await raw.json()) as { data: { embedding: unknown }[] }).data[0]!.embedding, 'string');
});

test('openai client - models.list', async (t) => {
  const up = await upstream(t);
  const ids: string[] = [];
  for await (const m of openaiClient(up).models.list()) ids.push(m.id);
  t.true(ids.includes('gpt-4o-mini'));
});

test('openai client - a 429 is the client\'s RateLimitError with the request id', async (t) => {
  const up = await upstream(t, { routes: { chat: { errors: [{ status: 429, rate: 1, retryAfterMs: 1500 }] } } });
  const err = await t.throwsAsync(openaiClient(up).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }), { instanceOf: OpenAI.RateLimitError });
  t.is(err!.headers?.get('retry-after-ms'), '1500');
  t.regex(err!.requestID ?? '', /^req_mock_/);
});

test('anthropic sdk - messages.create: content, usage, request id', async (t) => {
  const up = await upstream(t);
  const { data, request_id } = await anthropicClient(up).messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  t.is(data.type, 'message');
  t.deepEqual(data.content, [{ type: 'text', text: 'lorem ipsum dolor sit amet conse' }]);
  t.is(data.stop_reason, 'end_turn');
  t.is(data.usage.input_tokens, 2);
  t.is(data.usage.output_tokens, 8);
  t.truthy(request_id);
});

test('anthropic sdk - messages.stream: text deltas and the final message with usage', async (t) => {
  const up = await upstream(t, { routes: { messages: { stream: { chunks: 3, chunkBytes: 5 } } } });
  const stream = anthropicClient(up).messages.stream({ model: 'claude-3-5-haiku-latest', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
  const types: string[] = [];
  let text = '';
  stream.on('text', (d) => (text += d));
  for await (const e of stream) types.push(e.type);
  const final = await stream.finalMessage();
  t.is(text, 'lorem ipsum dol');
  t.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  t.is(final.usage.output_tokens, 4);
  t.is(final.content[0]?.type, 'text');
});

test('anthropic sdk - errors: 401 AuthenticationError, 429 RateLimitError with retry-after, 529 overloaded', async (t) => {
  const up = await upstream(t, { routes: { messages: { errors: [{ status: 429, rate: 0.5, retryAfterMs: 2000 }, { status: 529, rate: 0.5 }] } } });
  const req = { model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] };
  await t.throwsAsync(anthropicClient(up, 'sk-ant-wrong').messages.create(req), { instanceOf: Anthropic.AuthenticationError });
  const seen = new Set<number>();
  for (let i = 0; i < 12 && seen.size < 2; i++) {
    const err = (await t.throwsAsync(anthropicClient(up).messages.create(req))) as InstanceType<typeof Anthropic.APIError>;
    seen.add(err.status!);
    if (err.status === 429) {
      t.true(err instanceof Anthropic.RateLimitError);
      t.is(err.headers?.get('retry-after'), '2');
      t.like(err.error, { type: 'error', error: { type: 'rate_limit_error' } });
    } else {
      t.is(err.status, 529);
      t.like(err.error, { type: 'error', error: { type: 'overloaded_error' } });
    }
  }
  t.deepEqual([...seen].sort(), [429, 529]);
});

test('anthropic sdk - anthropic-ratelimit-* headers on every answer', async (t) => {
  const up = await upstream(t, { routes: { messages: { rateLimit: { requests: 50, tokens: 40_000, windowMs: 60_000 } } } });
  const { response } = await anthropicClient(up).messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  t.is(response.headers.get('anthropic-ratelimit-requests-limit'), '50');
  t.is(response.headers.get('anthropic-ratelimit-requests-remaining'), '49');
  t.is(response.headers.get('anthropic-ratelimit-tokens-limit'), '40000');
  const reset = Date.parse(response.headers.get('anthropic-ratelimit-requests-reset')!);
  t.true(reset > Date.now() && reset <= Date.now() + 60_000);
});
