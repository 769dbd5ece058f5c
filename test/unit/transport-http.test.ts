/**
 * One suite, run against every transport: each behaviour users can observe must be the same on
 * undici and on node-fetch, over real loopback HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import test from 'ava';
import { CancelledError, RateLimitError, TransportError } from '../../src/core/errors.js';
import { startMockUpstream, type MockUpstreamOptions } from '../../src/harness/mock-upstream.js';
import { createTransport } from '../../src/transport/create-transport.js';
import type { HttpTransport, TransportKind } from '../../src/transport/http-transport.js';
import { until } from '../helpers/wait-for.js';

type Teardown = { teardown(fn: () => unknown): void };
const KINDS: readonly TransportKind[] = ['undici', 'node-fetch'];

function transportOf(t: Teardown, kind: TransportKind): HttpTransport {
  const transport = createTransport(kind);
  t.teardown(() => transport.close());
  return transport;
}

async function withUpstream(t: Teardown, kind: TransportKind, options: MockUpstreamOptions = {}) {
  const up = await startMockUpstream(options);
  const transport = transportOf(t, kind);
  t.teardown(() => up.close());
  return { up, transport };
}

/** A node:http server of the test's own; returns its base URL. */
async function serve(t: Teardown, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A port nothing listens on: the discard port, below the ephemeral range. A port just released
 * by a server of our own is not: test files run side by side, and another file's server bound
 * to port 0 may be given it (a CI run once got a non-retryable TransportError there, not
 * ECONNREFUSED).
 */
const CLOSED_PORT = 9;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}

const chatBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
const post = (url: string, body: string, headers: Record<string, string> = {}) => ({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, body });

for (const kind of KINDS) {
  // undici waits one event-loop turn before it reuses a socket (so a server that closes it after
  // all is seen first), so back-to-back requests alternate between two sockets; node-fetch uses one.
  test(`${kind}: json() - parses the body and reuses keep-alive connections`, async (t) => {
    const { up, transport } = await withUpstream(t, kind);
    t.is(transport.kind, kind);
    for (let i = 0; i < 10; i++) {
      const res = await transport.json(post(`${up.baseURL}/chat/completions`, chatBody()));
      t.is(res.status, 200);
      t.is((res.body as { object: string }).object, 'chat.completion');
      t.is(res.headers.get('Content-Type'), 'application/json');
    }
    t.true(up.stats().connections <= 2);
    await until(() => transport.sockets().active === 0, 5000, 'sockets back in the pool');
    t.is(transport.sockets().idle, up.connections());
    transport.close();
    await until(() => up.connections() === 0, 5000, 'sockets closed');
    t.deepEqual(transport.sockets(), { active: 0, idle: 0 });
  });

  test(`${kind}: json() - a 204 has a null body`, async (t) => {
    const base = await serve(t, (_req, res) => res.writeHead(204).end());
    const res = await transportOf(t, kind).json({ method: 'DELETE', url: `${base}/x`, headers: {} });
    t.is(res.status, 204);
    t.is(res.body, null);
  });

  test(`${kind}: json() - an informational 103 before the response is skipped`, async (t) => {
    const base = await serve(t, (_req, res) => {
      res.writeEarlyHints({ link: '</a.css>; rel=preload' });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const res = await transportOf(t, kind).json({ method: 'GET', url: `${base}/x`, headers: {} });
    t.is(res.status, 200);
    t.deepEqual(res.body, { ok: true });
  });

  test(`${kind}: json() - a body that is not JSON is a TransportError with a short preview`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { malformedRate: 1 } } });
    const err = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody())), { instanceOf: TransportError });
    t.regex(err.message, /not JSON \(HTTP 200\): \{"id":"mock-1"/);
    t.is(err.status, 200);
  });

  test(`${kind}: json() - statuses map to typed errors; 429 carries retry-after`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { errors: [{ status: 503, rate: 1 }] }, embeddings: { errors: [{ status: 429, rate: 1, retryAfterMs: 1234 }] }, json: { errors: [{ status: 400, rate: 1 }] } } });
    const e503 = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody())), { instanceOf: TransportError });
    t.is(e503.status, 503);
    t.true(e503.retryable);
    t.regex(e503.message, /^POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions failed with HTTP 503/);
    const e429 = await t.throwsAsync(transport.json(post(`${up.baseURL}/embeddings`, '{"input":"x"}')), { instanceOf: RateLimitError });
    t.is(e429.retryAfterMs, 1234);
    const e400 = await t.throwsAsync(transport.json(post(`${up.url}/json/x`, '{}')), { instanceOf: TransportError });
    t.false(e400.retryable);
    // The error bodies were read: the connections are reused for the next requests.
    for (let i = 0; i < 5; i++) await t.throwsAsync(transport.json(post(`${up.url}/json/x`, '{}')), { instanceOf: TransportError });
    t.true(up.stats().connections <= 2);
  });

  test(`${kind}: json() - an error body keeps the provider's message, the key masked`, async (t) => {
    const base = await serve(t, (_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'bad key sk-secret123456789' } })));
    const err = await t.throwsAsync(transportOf(t, kind).json({ method: 'GET', url: `${base}/x?key=sk-secret123456789`, headers: {} }, { secrets: ['sk-secret123456789'] }), { instanceOf: TransportError });
    t.is(err.status, 401);
    t.notRegex(err.message, /secret123/);
    t.regex(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/x failed with HTTP 401: bad key/);
  });

  test(`${kind}: json() - a connection reset is a retryable TransportError`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { resetRate: 1 } } });
    const err = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody())), { instanceOf: TransportError });
    t.true(err.retryable);
    t.is(err.status, undefined);
  });

  test(`${kind}: json() - a refused connection is a retryable TransportError naming ECONNREFUSED`, async (t) => {
    const transport = transportOf(t, kind);
    const err = await t.throwsAsync(transport.json({ method: 'GET', url: `http://127.0.0.1:${CLOSED_PORT}/x`, headers: {} }), { instanceOf: TransportError });
    t.true(err.retryable);
    t.regex(err.message, /ECONNREFUSED/);
  });

  test(`${kind}: json() - the timeout aborts the request with a retryable TransportError`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { latency: { kind: 'fixed', ms: 30_000 } } } });
    const started = performance.now();
    const err = await t.throwsAsync(transport.json(post(`${up.baseURL}/chat/completions`, chatBody()), { timeoutMs: 100 }), { instanceOf: TransportError });
    t.regex(err.message, /timed out after 100 ms/);
    t.true(err.retryable);
    t.true(performance.now() - started < 10_000);
    await until(() => up.connections() === 0, 5000, 'the aborted socket to close');
  });

  test(`${kind}: json() - the timeout also covers a body that stalls after the headers`, async (t) => {
    const base = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
    });
    const err = await t.throwsAsync(transportOf(t, kind).json({ method: 'GET', url: `${base}/x`, headers: {} }, { timeoutMs: 150 }), { instanceOf: TransportError });
    t.regex(err.message, /timed out after 150 ms/);
  });

  test(`${kind}: json() - aborting the signal aborts the HTTP request and rejects with its reason`, async (t) => {
    const controller = new AbortController();
    let serverSawClose!: () => void;
    const closed = new Promise<void>((r) => (serverSawClose = r));
    const base = await serve(t, (_req, res) => {
      res.once('close', serverSawClose);
      controller.abort(new CancelledError('test'));
    });
    const transport = transportOf(t, kind);
    await t.throwsAsync(transport.json({ method: 'GET', url: `${base}/x`, headers: {} }, { signal: controller.signal }), { instanceOf: CancelledError });
    await closed;
    await until(() => transport.sockets().active === 0 && transport.sockets().idle === 0, 5000, 'the socket to close');
    t.deepEqual(transport.sockets(), { active: 0, idle: 0 });
  });

  test(`${kind}: json() - a signal aborted before the call rejects without a request`, async (t) => {
    let requests = 0;
    const base = await serve(t, (_req, res) => {
      requests++;
      res.end('{}');
    });
    const controller = new AbortController();
    controller.abort(new CancelledError('early'));
    await t.throwsAsync(transportOf(t, kind).json({ method: 'GET', url: `${base}/x`, headers: {} }, { signal: controller.signal }), { instanceOf: CancelledError, message: /early/ });
    t.is(requests, 0);
  });

  test(`${kind}: json() - a redirect is refused by default, with its status`, async (t) => {
    let followed = 0;
    const base = await serve(t, (req, res) => {
      if (req.url === '/to') followed++;
      res.writeHead(302, { location: '/to' }).end('moved');
    });
    const err = await t.throwsAsync(transportOf(t, kind).json(post(`${base}/from`, '{}')), { instanceOf: TransportError });
    t.is(err.status, 302);
    t.false(err.retryable);
    t.regex(err.message, /redirected \(HTTP 302\): redirects are refused/);
    t.is(followed, 0);
  });

  test(`${kind}: json() - redirects are followed up to maxRedirects: 307 keeps POST and body, 303 becomes GET`, async (t) => {
    const seen: string[] = [];
    const base = await serve(t, async (req, res) => {
      const body = await readBody(req);
      seen.push(`${req.method} ${req.url} ${body}`);
      if (req.url === '/a') res.writeHead(307, { location: '/b' }).end();
      else if (req.url === '/b') res.writeHead(303, { location: '/c' }).end();
      else if (req.url === '/loop') res.writeHead(301, { location: '/loop' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ at: req.url }));
    });
    const transport = transportOf(t, kind);
    const res = await transport.json(post(`${base}/a`, '{"x":1}'), { maxRedirects: 2 });
    t.deepEqual(res.body, { at: '/c' });
    t.deepEqual(seen, ['POST /a {"x":1}', 'POST /b {"x":1}', 'GET /c ']);
    const err = await t.throwsAsync(transport.json({ method: 'GET', url: `${base}/loop`, headers: {} }, { maxRedirects: 3 }), { instanceOf: TransportError });
    t.regex(err.message, /more than 3 redirects/);
    t.is(err.status, 301);
  });

  test(`${kind}: json() - a redirect to another origin drops the credentials`, async (t) => {
    const seen: { auth?: string | undefined } = { auth: 'unset' };
    const other = await serve(t, (req, res) => {
      seen.auth = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const base = await serve(t, (_req, res) => res.writeHead(307, { location: `${other}/x` }).end());
    await transportOf(t, kind).json({ method: 'GET', url: `${base}/x`, headers: { authorization: 'Bearer k' } }, { maxRedirects: 1 });
    t.is(seen.auth, undefined);
  });

  test(`${kind}: json() - a body over maxResponseBytes fails, declared or chunked`, async (t) => {
    const big = JSON.stringify({ data: 'x'.repeat(10_000) });
    const base = await serve(t, (req, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }).end(big);
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 10; i++) res.write(big.slice(i * 1000, (i + 1) * 1000));
        res.end(big.slice(10_000));
      }
    });
    const transport = transportOf(t, kind);
    for (const path of ['/declared', '/chunked']) {
      const err = await t.throwsAsync(transport.json({ method: 'GET', url: `${base}${path}`, headers: {} }, { maxResponseBytes: 4096 }), { instanceOf: TransportError });
      t.regex(err.message, /response body larger than 4096 bytes/);
      t.false(err.retryable);
      t.is(err.status, 200);
    }
    const ok = await transport.json({ method: 'GET', url: `${base}/chunked`, headers: {} }, { maxResponseBytes: Buffer.byteLength(big) });
    t.is((ok.body as { data: string }).data.length, 10_000);
  });

  test(`${kind}: json() - a gzip body is decoded, and the limit applies to the decoded size`, async (t) => {
    const json = JSON.stringify({ data: 'y'.repeat(50_000) });
    const gz = zlib.gzipSync(json);
    const base = await serve(t, (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length }).end(gz));
    const transport = transportOf(t, kind);
    const res = await transport.json({ method: 'GET', url: `${base}/x`, headers: {} });
    t.is((res.body as { data: string }).data.length, 50_000);
    t.true(gz.length < 10_000);
    await t.throwsAsync(transport.json({ method: 'GET', url: `${base}/x`, headers: {} }, { maxResponseBytes: 20_000 }), { instanceOf: TransportError, message: /larger than 20000 bytes/ });
  });

  test(`${kind}: onSent - fires once per request, before the response`, async (t) => {
    let sent = 0;
    let sentBeforeResponse = 0;
    const base = await serve(t, async (req, res) => {
      await readBody(req);
      // Hold the response until the client has reported the send: it must come before.
      await until(() => sent > 0, 2000, 'onSent').catch(() => undefined);
      sentBeforeResponse = sent;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const transport = transportOf(t, kind);
    for (let i = 1; i <= 3; i++) {
      sent = 0;
      await transport.json(post(`${base}/x`, '{"n":1}'), { onSent: () => sent++ });
      t.is(sentBeforeResponse, 1, `request ${i}`);
      t.is(sent, 1, `request ${i}`);
    }
    sent = 0;
    const res = await transport.sse(post(`${base}/x`, '{}'), { onSent: () => sent++ });
    for await (const _ of res.events);
    t.is(sent, 1);
  });

  test(`${kind}: onSent - not called for a request refused before sending`, async (t) => {
    let sent = 0;
    const onSent = () => sent++;
    const transport = transportOf(t, kind);
    const controller = new AbortController();
    controller.abort(new CancelledError('early'));
    await t.throwsAsync(transport.json({ method: 'GET', url: 'http://127.0.0.1:9/x', headers: {} }, { signal: controller.signal, onSent }), { instanceOf: CancelledError });
    await t.throwsAsync(transport.json({ method: 'POST', url: `http://127.0.0.1:${CLOSED_PORT}/x`, headers: {}, body: '{}' }, { onSent }), { instanceOf: TransportError });
    t.is(sent, 0);
  });

  test(`${kind}: onSent - a followed redirect reports the first send only`, async (t) => {
    const base = await serve(t, (req, res) => {
      if (req.url === '/a') res.writeHead(307, { location: '/b' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    let sent = 0;
    await transportOf(t, kind).json({ method: 'GET', url: `${base}/a`, headers: {} }, { maxRedirects: 1, onSent: () => sent++ });
    t.is(sent, 1);
  });

  test(`${kind}: sse() - decodes events and ends at the stream's end`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { stream: { chunks: 6, splitEvents: true, multilineData: true, comments: true } } } });
    const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })));
    t.is(res.status, 200);
    const seen: string[] = [];
    for await (const e of res.events) seen.push(e.data);
    t.is(seen.at(-1), '[DONE]');
    t.true(seen.length >= 7);
    await until(() => transport.sockets().idle === 1 && transport.sockets().active === 0, 5000, 'the socket back in the pool');
    t.is(up.connections(), 1);
  });

  test(`${kind}: sse() - an idle stream is aborted by the idle timeout, after the chunks that came`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { stream: { chunks: 10, silentAfter: 3 } } } });
    const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })), { idleTimeoutMs: 150 });
    const seen: string[] = [];
    const err = await t.throwsAsync(async () => {
      for await (const e of res.events) seen.push(e.data);
    }, { instanceOf: TransportError });
    t.regex(err.message, /stream idle for 150 ms/);
    t.is(seen.length, 4); // role chunk + 3 content chunks
    await until(() => up.connections() === 0, 5000, 'the silent stream socket to close');
  });

  test(`${kind}: sse() - the idle timeout is separate from the headers timeout: a slow stream completes`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { stream: { chunks: 14, intervalMs: 250 } } } });
    const started = performance.now();
    // A 2 s timeout fires 2-3 s after it is set (coarse sweep); the stream lasts longer than that
    // (3.5 s), and the headers have 2 s to arrive on loopback even on a busy machine.
    const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })), { timeoutMs: 2000, idleTimeoutMs: 1500 });
    const seen: string[] = [];
    for await (const e of res.events) seen.push(e.data);
    t.is(seen.at(-1), '[DONE]');
    t.is(seen.length, 17);
    t.true(performance.now() - started > 3000);
  });

  test(`${kind}: sse() - leaving the loop early aborts the request and frees the socket`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { stream: { chunks: 1000, intervalMs: 5 } } } });
    const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })));
    let n = 0;
    for await (const _ of res.events) if (++n === 3) break;
    await until(() => up.connections() === 0, 5000, 'the server to see the stream closed');
    await until(() => transport.sockets().active === 0 && transport.sockets().idle === 0, 5000, 'the socket to close');
    t.is(n, 3);
  });

  test(`${kind}: sse() - aborting the signal mid-stream rejects the iteration with its reason`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { stream: { chunks: 1000, intervalMs: 5 } } } });
    const controller = new AbortController();
    const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })), { signal: controller.signal });
    let n = 0;
    await t.throwsAsync(async () => {
      for await (const _ of res.events) if (++n === 2) controller.abort(new CancelledError('stop'));
    }, { instanceOf: CancelledError, message: /stop/ });
    await until(() => up.connections() === 0, 5000, 'the stream socket to close');
  });

  test(`${kind}: sse() - a stream over maxResponseBytes fails`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { responseBytes: 64 * 1024, stream: { chunks: 64 } } } });
    const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })), { maxResponseBytes: 16 * 1024 });
    let n = 0;
    const err = await t.throwsAsync(async () => {
      for await (const _ of res.events) n++;
    }, { instanceOf: TransportError });
    t.regex(err.message, /larger than 16384 bytes/);
    t.true(n < 64);
  });

  // Serial: arrayBuffers is the whole process's, so no other test may allocate beside it.
  test.serial(`${kind}: sse() - a slow consumer holds the stream back instead of buffering it`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { responseBytes: 4 << 20, stream: { chunks: 1024 } } } });
    const res = await transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true })));
    const it = res.events[Symbol.asyncIterator]();
    await it.next();
    const before = process.memoryUsage().arrayBuffers;
    await new Promise((r) => setTimeout(r, 300));
    // 4 MB were offered; with backpressure far less is held (socket buffers plus a high-water mark).
    t.true(process.memoryUsage().arrayBuffers - before < 2 << 20);
    let n = 1;
    while (!(await it.next()).done) n++;
    t.true(n > 1000);
    t.is(up.stats().connections, 1);
  });

  test(`${kind}: sse() - a non-2xx status rejects before any event`, async (t) => {
    const { up, transport } = await withUpstream(t, kind, { routes: { chat: { errors: [{ status: 500, rate: 1 }] } } });
    const err = await t.throwsAsync(transport.sse(post(`${up.baseURL}/chat/completions`, chatBody({ stream: true }))), { instanceOf: TransportError });
    t.is(err.status, 500);
  });

  test(`${kind}: sse() - a gzip stream is decoded`, async (t) => {
    const sse = 'data: {"a":1}\n\ndata: [DONE]\n\n';
    const base = await serve(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(sse));
    });
    const res = await transportOf(t, kind).sse({ method: 'GET', url: `${base}/x`, headers: {} });
    const seen: string[] = [];
    for await (const e of res.events) seen.push(e.data);
    t.deepEqual(seen, ['{"a":1}', '[DONE]']);
  });
}
