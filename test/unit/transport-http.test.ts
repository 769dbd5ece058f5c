import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { CancelledError, RateLimitError, TransportError } from '../../src/core/errors.js';
import { startMockUpstream, type MockUpstreamOptions } from '../../src/harness/mock-upstream.js';
import { HttpTransport } from '../../src/transport/http-transport.js';
import { until } from '../helpers/wait-for.js';

async function withUpstream(t: { teardown(fn: () => unknown): void }, options: MockUpstreamOptions = {}) {
  const up = await startMockUpstream(options);
  const transport = new HttpTransport();
  t.teardown(async () => {
    transport.close();
    await up.close();
  });
  return { up, transport };
}

const chatBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
const post = (url: string, body: string) => ({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body });

test('json() - parses the body and reuses one keep-alive connection', async (t) => {
  const { up, transport } = await withUpstream(t);
  for (let i = 0; i < 5; i++) {
    const res = await transport.json(post(`${up.baseURL}/chat/completions`, chatBody()));
    t.is(res.status, 200);
    t.is((res.body as { object: string }).object, 'chat.completion');
  }
  t.is(up.stats().connections, 1);
  t.deepEqual(transport.sockets(), { active: 0, idle: 1 });
  transport.close();
  await until(() => up.connections() === 0, 5000, 'sockets closed');
  t.deepEqual(transport.sockets(), { active: 0, idle: 0 });
});

test('json() - a body that is not JSON is a TransportError with a short preview', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { malformedRate: 1 } } });
  const err = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody())), { instanceOf: TransportError });
  t.regex(err.message, /not JSON \(HTTP 200\): \{"id":"mock-1"/);
  t.is(err.status, 200);
});

test('json() - statuses map to typed errors; 429 carries retry-after', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { errors: [{ status: 503, rate: 1 }] }, embeddings: { errors: [{ status: 429, rate: 1, retryAfterMs: 1234 }] }, json: { errors: [{ status: 400, rate: 1 }] } } });
  const e503 = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody())), { instanceOf: TransportError });
  t.is(e503.status, 503);
  t.true(e503.retryable);
  const e429 = await t.throwsAsync(transport.json(post(`${up.baseURL}/embeddings`, '{"input":"x"}')), { instanceOf: RateLimitError });
  t.is(e429.retryAfterMs, 1234);
  const e400 = await t.throwsAsync(transport.json(post(`${up.url}/json/x`, '{}')), { instanceOf: TransportError });
  t.false(e400.retryable);
});

test('json() - a connection reset is a retryable TransportError', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { resetRate: 1 } } });
  const err = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody())), { instanceOf: TransportError });
  t.true(err.retryable);
  t.is(err.status, undefined);
});

test('json() - the timeout aborts the request with a retryable TransportError', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { latency: { kind: 'fixed', ms: 5000 } } } });
  const started = performance.now();
  const err = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody()), { timeoutMs: 100 }), { instanceOf: TransportError });
  t.regex(err.message, /timed out after 100 ms/);
  t.true(err.retryable);
  t.true(performance.now() - started < 3000);
  await until(() => up.connections() === 0, 5000, 'the aborted socket to close');
});

test('json() - aborting the signal aborts the HTTP request and rejects with its reason', async (t) => {
  const controller = new AbortController();
  let serverSawClose!: () => void;
  const closed = new Promise<void>((r) => (serverSawClose = r));
  const server = http.createServer((req, res) => {
    res.once('close', serverSawClose);
    controller.abort(new CancelledError('test'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const transport = new HttpTransport();
  t.teardown(() => {
    transport.close();
    server.closeAllConnections();
    server.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  await t.throwsAsync(transport.json({ method: 'GET', url, headers: {} }, { signal: controller.signal }), { instanceOf: CancelledError });
  await closed;
  t.deepEqual(transport.sockets(), { active: 0, idle: 0 });
});

test('sse() - an idle stream is aborted by the idle timeout, after the chunks that came', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { stream: { chunks: 10, silentAfter: 3 } } } });
  const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })), { idleTimeoutMs: 150 });
  const seen: string[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const e of res.events) seen.push(e.data);
  }, { instanceOf: TransportError });
  t.regex(err.message, /stream idle for 150 ms/);
  t.is(seen.length, 4); // role chunk + 3 content chunks
  await until(() => up.connections() === 0, 5000, 'the silent stream socket to close');
});

test('sse() - the idle timeout is separate from the headers timeout: a slow stream completes', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { stream: { chunks: 5, intervalMs: 200 } } } });
  const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })), { timeoutMs: 600, idleTimeoutMs: 5000 });
  const seen: string[] = [];
  for await (const e of res.events) seen.push(e.data);
  t.is(seen.at(-1), '[DONE]');
  t.is(seen.length, 8);
});

test('sse() - leaving the loop early aborts the request and frees the socket', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { stream: { chunks: 1000, intervalMs: 5 } } } });
  const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })));
  let n = 0;
  for await (const _ of res.events) if (++n === 3) break;
  await until(() => up.connections() === 0, 5000, 'the server to see the stream closed');
  t.deepEqual(transport.sockets(), { active: 0, idle: 0 });
});

test('sse() - a non-2xx status rejects before any event', async (t) => {
  const { up, transport } = await withUpstream(t, { routes: { chat: { errors: [{ status: 500, rate: 1 }] } } });
  const err = await t.throwsAsync(transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true }))), { instanceOf: TransportError });
  t.is(err.status, 500);
});
