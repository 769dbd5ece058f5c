import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isEnvelope, META, type Envelope } from '../../src/core/envelope.js';
import { RateLimitError, serializeError, TransportError, ValidationError } from '../../src/core/errors.js';
import type { HandlerContext, Service } from '../../src/core/service.js';
import { startMockUpstream, type MockUpstreamOptions } from '../../src/harness/mock-upstream.js';
import { jsonService } from '../../src/services/json-service.js';
import { openai } from '../../src/services/openai.js';
import * as chatHandler from '../../workers/handlers/openai-chat.js';
import * as completionsHandler from '../../workers/handlers/openai-completions.js';
import * as embeddingsHandler from '../../workers/handlers/openai-embeddings.js';
import * as jsonHandler from '../../workers/handlers/json.js';
import { sharedTransport } from '../../src/transport/create-transport.js';
import type { TransportKind } from '../../src/transport/http-transport.js';
import { until } from '../helpers/wait-for.js';

const KEY = 'sk-test-DONOTLEAK-0123456789';
const TRANSPORTS: readonly TransportKind[] = ['undici', 'node-fetch'];

function ctxOf(service: Service<any, any, any>): HandlerContext {
  return { callId: 'c1', branchId: 'b1', deadlineEpochMs: null, capabilities: [], attrs: {}, options: service.options };
}
const live = () => new AbortController().signal;

async function upstream(t: { teardown(fn: () => unknown): void }, options: MockUpstreamOptions = {}) {
  const up = await startMockUpstream(options);
  t.teardown(() => up.close());
  return up;
}

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const hello = { messages: [{ role: 'user', content: 'hello' }] };

for (const transport of TRANSPORTS) {
  test(`${transport}: chat call - the validated completion, wrapped with usage and provider limits`, async (t) => {
    const up = await upstream(t, { apiKey: KEY, routes: { chat: { rateLimit: { requests: 100, tokens: 10_000, windowMs: 60_000 } } } });
    const svc = openai.chat({ transport, baseURL: up.baseURL, apiKey: KEY, model: 'mock-a' });
    const out = (await chatHandler.call(hello, ctxOf(svc), live())) as Envelope<{ model: string; choices: { message: { content: string } }[]; usage: { total_tokens: number } }>;
    t.true(isEnvelope(out));
    t.is(out.value!.model, 'mock-a');
    t.is(typeof out.value!.choices[0]!.message.content, 'string');
    t.is(out[META].usage!.tokens, out.value!.usage.total_tokens);
    t.like(out[META].providerLimits, { remainingRequests: 99 });
    t.true(out[META].providerLimits!.resetRequestsMs! > 0);
  });

  test(`${transport}: chat call - the request's own model wins over the option`, async (t) => {
    const up = await upstream(t);
    const svc = openai.chat({ transport, baseURL: up.baseURL, model: 'default-model' });
    const out = (await chatHandler.call({ ...hello, model: 'chosen' }, ctxOf(svc), live())) as Envelope<{ model: string }>;
    t.is(out.value!.model, 'chosen');
  });

  test(`${transport}: chat stream - chunks in order, however the events are cut; usage and limits as meta items`, async (t) => {
    const up = await upstream(t, { routes: { chat: { rateLimit: { requests: 5, windowMs: 60_000 }, stream: { chunks: 6, chunkBytes: 10, splitEvents: true, multilineData: true, comments: true } } } });
    const svc = openai.chat({ transport, baseURL: up.baseURL });
    const items = await collect(chatHandler.stream(hello, ctxOf(svc), live()));
    const metas = items.filter(isEnvelope).map((e) => e[META]);
    const chunks = items.filter((x) => !isEnvelope(x)) as { choices: { delta: { content?: string } }[]; usage?: { total_tokens: number } }[];
    t.like(metas[0], { providerLimits: { remainingRequests: 4 } });
    t.true(isEnvelope(items[0]));
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    t.is(text.length, 60);
    const usageChunk = chunks.at(-1)!;
    t.deepEqual(metas.at(-1), { usage: { tokens: usageChunk.usage!.total_tokens } });
  });

  test(`${transport}: chat stream - streamUsage: false sends no stream_options and gets no usage`, async (t) => {
    const up = await upstream(t);
    const svc = openai.chat({ transport, baseURL: up.baseURL, streamUsage: false });
    const items = await collect(chatHandler.stream(hello, ctxOf(svc), live()));
    t.false(items.some(isEnvelope));
    t.is(items.length, 10); // role, 8 content chunks, finish
  });

  test(`${transport}: completions - call and stream`, async (t) => {
    const up = await upstream(t, { routes: { completions: { responseBytes: 4096 } } });
    const svc = openai.completions({ transport, baseURL: up.baseURL, model: 'm' });
    const out = (await completionsHandler.call({ prompt: 'once upon' }, ctxOf(svc), live())) as Envelope<{ choices: { text: string }[] }>;
    t.is(out.value!.choices[0]!.text.length, 4096);
    const items = await collect(completionsHandler.stream({ prompt: 'once upon' }, ctxOf(svc), live()));
    const text = items.filter((x) => !isEnvelope(x)).map((c) => (c as { choices: { text: string }[] }).choices[0]?.text ?? '').join('');
    t.is(text.length, 4096);
  });

  test(`${transport}: embeddings - one vector per input`, async (t) => {
    const up = await upstream(t, { routes: { embeddings: { dimensions: 8 } } });
    const svc = openai.embeddings({ transport, baseURL: up.baseURL, model: 'e' });
    const out = (await embeddingsHandler.call({ input: ['a', 'b', 'c'] }, ctxOf(svc), live())) as Envelope<{ data: { embedding: number[] }[] }>;
    t.is(out.value!.data.length, 3);
    t.is(out.value!.data[0]!.embedding.length, 8);
    t.true(out[META].usage!.tokens > 0);
  });

  test(`${transport}: jsonService - method, path, query and body reach the upstream; the body comes back`, async (t) => {
    const up = await upstream(t);
    const svc = jsonService({ transport, baseURL: `${up.url}/json`, headers: { 'x-app': 'test' } });
    const out = (await jsonHandler.call({ path: '/items', method: 'PUT', query: { page: 2 }, body: { name: 'x' } }, ctxOf(svc), live())) as Record<string, unknown>;
    t.like(out, { ok: true, method: 'PUT', path: '/json/items', query: { page: '2' }, body: { name: 'x' } });
  });

  test(`${transport}: jsonService - a response that does not match responseSchema is a ValidationError`, async (t) => {
    const up = await upstream(t);
    const svc = jsonService({ transport, baseURL: `${up.url}/json`, responseSchema: { type: 'object', required: ['missing'] } });
    const err = await t.throwsAsync(Promise.resolve(jsonHandler.call({}, ctxOf(svc), live())), { instanceOf: ValidationError });
    t.is(err.what, 'response');
    t.is(err.issues[0]!.path, '/missing');
  });

  test(`${transport}: a response of the wrong shape is a ValidationError naming the response, not a crash later`, async (t) => {
    const up = await upstream(t, { routes: { chat: { wrongShapeRate: 1 }, embeddings: { wrongShapeRate: 1 } } });
    const chat = openai.chat({ transport, baseURL: up.baseURL });
    const e1 = await t.throwsAsync(Promise.resolve(chatHandler.call(hello, ctxOf(chat), live())), { instanceOf: ValidationError });
    t.is(e1.what, 'response');
    t.regex(e1.message, /invalid response: .*\/choices: is required/);
    const e2 = await t.throwsAsync(collect(chatHandler.stream(hello, ctxOf(chat), live())), { instanceOf: ValidationError });
    t.is(e2.what, 'response chunk');
    const emb = openai.embeddings({ transport, baseURL: up.baseURL });
    await t.throwsAsync(Promise.resolve(embeddingsHandler.call({ input: 'x' }, ctxOf(emb), live())), { instanceOf: ValidationError });
  });

  test(`${transport}: a malformed stream chunk is a TransportError after the chunks before it`, async (t) => {
    const up = await upstream(t, { routes: { chat: { malformedRate: 1, stream: { chunks: 4 } } } });
    const svc = openai.chat({ transport, baseURL: up.baseURL, streamUsage: false });
    const seen: unknown[] = [];
    const err = await t.throwsAsync(async () => {
      for await (const c of chatHandler.stream(hello, ctxOf(svc), live())) seen.push(c);
    }, { instanceOf: TransportError });
    t.regex(err.message, /stream chunk is not JSON/);
    t.is(seen.length, 3); // role + 2 content chunks, then the bad one
  });

  test(`${transport}: the API key never appears in any error, whatever fails`, async (t) => {
    const routes: MockUpstreamOptions['routes'] = {
      chat: { errors: [{ status: 500, rate: 0.2 }, { status: 429, rate: 0.2 }, { status: 400, rate: 0.2 }], malformedRate: 0.3, resetRate: 0.1 },
    };
    const up = await upstream(t, { routes, seed: 7 });
    const wrongKey = await upstream(t, { apiKey: 'the-right-key' });
    const svcs = [openai.chat({ transport, baseURL: up.baseURL, apiKey: KEY }), openai.chat({ transport, baseURL: wrongKey.baseURL, apiKey: KEY }), openai.chat({ transport, baseURL: 'http://127.0.0.1:1/v1', apiKey: KEY })];
    const kinds = new Set<string>();
    for (const svc of svcs) {
      for (let i = 0; i < 15; i++) {
        for (const run of [() => chatHandler.call(hello, ctxOf(svc), live()), () => collect(chatHandler.stream(hello, ctxOf(svc), live()))]) {
          try {
            await run();
          } catch (err) {
            const e = err as Error & { status?: number; code: string };
            kinds.add(`${e.code}:${e.status ?? '-'}`);
            const all = `${JSON.stringify(serializeError(e))} ${e.stack} ${String(e)} ${JSON.stringify(e)}`;
            t.false(all.includes('DONOTLEAK'), all.slice(0, 200));
            t.false(/authorization|bearer/i.test(all), all.slice(0, 200));
          }
        }
      }
    }
    for (const k of ['E_TRANSPORT:500', 'E_RATE_LIMITED:-', 'E_TRANSPORT:400', 'E_TRANSPORT:200', 'E_TRANSPORT:401', 'E_TRANSPORT:-']) t.true(kinds.has(k), `${k} in ${[...kinds].join(',')}`);
  });

  test(`${transport}: a 401 for a wrong key is not retryable; a 429 is a RateLimitError`, async (t) => {
    const up = await upstream(t, { apiKey: 'right', routes: { embeddings: { errors: [{ status: 429, rate: 1, retryAfterMs: 500 }] } } });
    const bad = openai.chat({ transport, baseURL: up.baseURL, apiKey: 'wrong' });
    const e = await t.throwsAsync(Promise.resolve(chatHandler.call(hello, ctxOf(bad), live())), { instanceOf: TransportError });
    t.is(e.status, 401);
    t.false(e.retryable);
    const emb = openai.embeddings({ transport, baseURL: up.baseURL, apiKey: 'right' });
    const r = await t.throwsAsync(Promise.resolve(embeddingsHandler.call({ input: 'x' }, ctxOf(emb), live())), { instanceOf: RateLimitError });
    t.is(r.retryAfterMs, 500);
  });

  test(`${transport}: chat stream - a consumer that stops before any chunk still frees the connection`, async (t) => {
    const up = await upstream(t, { routes: { chat: { rateLimit: { requests: 5, windowMs: 60_000 }, stream: { chunks: 1000, intervalMs: 10 } } } });
    const svc = openai.chat({ transport, baseURL: up.baseURL });
    const it = chatHandler.stream(hello, ctxOf(svc), live())[Symbol.asyncIterator]();
    const first = await it.next();
    t.true(isEnvelope(first.value));
    await it.return!();
    await until(() => up.connections() === 0, 5000, 'the stream connection to close');
    t.is(up.stats().inFlight, 0);
  });

  // Serial: it waits for the shared transport to have no request in flight, which other tests'
  // requests on it (a slow failure takes seconds) would hold off.
  test.serial(`${transport}: the handlers report ctx.sent once per request, before the result, and the option picks the transport`, async (t) => {
    const up = await upstream(t, { routes: { chat: { latency: { kind: 'fixed', ms: 50 } } } });
    const chat = openai.chat({ transport, baseURL: up.baseURL, model: 'm' });
    const json = jsonService({ transport, baseURL: `${up.url}/json` });
    const events: string[] = [];
    const ctxWithSent = (svc: Service<any, any, any>): HandlerContext => Object.assign(ctxOf(svc), { sent: () => events.push('sent') });
    const reply = await chatHandler.call(hello, ctxWithSent(chat), live());
    events.push('result');
    t.true(isEnvelope(reply));
    await jsonHandler.call({ path: '/x', body: {} }, ctxWithSent(json), live());
    events.push('result');
    for await (const _ of chatHandler.stream(hello, ctxWithSent(chat), live())) events.push('chunk');
    t.deepEqual(events.filter((e) => e !== 'chunk'), ['sent', 'result', 'sent', 'result', 'sent']);
    t.true(events.at(-1) === 'chunk');
    await until(() => sharedTransport(transport).sockets().active === 0, 5000, 'sockets back in the pool');
    t.true(sharedTransport(transport).sockets().idle >= 1);
    // A call refused before it is sent reports nothing.
    const before = events.length;
    const aborted = new AbortController();
    aborted.abort(new Error('no'));
    await t.throwsAsync(async () => chatHandler.call(hello, ctxWithSent(chat), aborted.signal));
    t.is(events.length, before);
  });
}

test('chat call: the body gets the service model unless the request names one, and loses a stream: true left in it', async (t) => {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      bodies.push(JSON.parse(raw) as Record<string, unknown>);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const svc = openai.chat({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'svc-model' });
  const request = { ...hello, temperature: 0.5, stream: true };
  await chatHandler.call(request, ctxOf(svc), live());
  await chatHandler.call({ ...hello, model: 'own', stream: false }, ctxOf(svc), live());
  t.deepEqual(bodies, [
    { ...hello, temperature: 0.5, model: 'svc-model' },
    { ...hello, model: 'own', stream: false },
  ]);
  t.deepEqual(request, { ...hello, temperature: 0.5, stream: true }, "the caller's request is not changed");
});
