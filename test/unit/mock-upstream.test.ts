import http from 'node:http';
import net from 'node:net';
import test from 'ava';
import { ConfigError } from '../../src/core/errors.js';
import { ArrivalLog } from '../../src/harness/arrival-log.js';
import { startMockUpstream, type MockUpstreamOptions } from '../../src/harness/mock-upstream.js';
import { sampleLatency, seededRandom } from '../../src/harness/mock-random.js';

async function upstream(t: { teardown(fn: () => unknown): void }, options: MockUpstreamOptions = {}) {
  const up = await startMockUpstream(options);
  t.teardown(() => up.close());
  return up;
}

const chat = (url: string, extra: Record<string, unknown> = {}, init: RequestInit = {}) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...extra }), ...init });

test('startMockUpstream() - options are checked and each problem names its field', async (t) => {
  const err = await t.throwsAsync(startMockUpstream({ seed: 1.5, routes: { chat: { resetRate: 2, latency: { kind: 'gaussian' } } } } as never), { instanceOf: ConfigError });
  const paths = err.issues.map((i) => i.path);
  t.true(paths.includes('/seed'));
  t.true(paths.includes('/routes/chat/resetRate'));
  await t.throwsAsync(startMockUpstream({ routes: { nope: {} } } as never), { instanceOf: ConfigError });
});

test('serves the OpenAI routes with and without /v1, and 404 elsewhere', async (t) => {
  const up = await upstream(t);
  t.regex(up.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.is(up.baseURL, `${up.url}/v1`);
  t.is((await chat(up.url)).status, 200);
  t.is((await fetch(`${up.url}/chat/completions`, { method: 'POST', body: '{}' })).status, 200);
  const emb = (await (await fetch(`${up.baseURL}/embeddings`, { method: 'POST', body: '{"input":["a","b"]}' })).json()) as { data: unknown[] };
  t.is(emb.data.length, 2);
  t.is((await fetch(`${up.url}/nothing`)).status, 404);
  t.like(up.stats(), { requests: { chat: 2, embeddings: 1, other: 1 }, statuses: { 200: 3, 404: 1 } });
  t.is((await fetch(`${up.baseURL}/completions`, { method: 'POST', body: '{not json' })).status, 400);
});

test('responseBytes sets the payload size (4 KB, 64 KB, 1 MB)', async (t) => {
  for (const size of [4096, 65536, 1 << 20]) {
    const up = await upstream(t, { defaults: { responseBytes: size } });
    const body = (await (await chat(up.url)).json()) as { choices: { message: { content: string } }[] };
    t.is(body.choices[0]!.message.content.length, size);
    const json = (await (await fetch(`${up.url}/json/x`)).json()) as { data: string };
    t.is(json.data.length, size);
    const emb = await (await fetch(`${up.baseURL}/embeddings`, { method: 'POST', body: '{"input":"x"}' })).text();
    t.true(emb.length > size * 0.7 && emb.length < size * 1.6, `${emb.length} for ${size}`);
  }
});

test('apiKey: requests without the right bearer token get a 401 that does not echo it', async (t) => {
  const up = await upstream(t, { apiKey: 'right' });
  const res = await chat(up.url, {}, { headers: { authorization: 'Bearer wrong-key-XYZ' } });
  t.is(res.status, 401);
  t.false((await res.text()).includes('XYZ'));
  t.is((await chat(up.url, {}, { headers: { authorization: 'Bearer right' } })).status, 200);
});

test('latency distributions: seeded, bounded, with the asked centre', (t) => {
  const draw = (l: Parameters<typeof sampleLatency>[0], seed: number, n: number) => {
    const r = seededRandom(seed);
    return Array.from({ length: n }, () => sampleLatency(l, r));
  };
  t.deepEqual(draw({ kind: 'lognormal', medianMs: 20, sigma: 0.5 }, 3, 50), draw({ kind: 'lognormal', medianMs: 20, sigma: 0.5 }, 3, 50));
  t.notDeepEqual(draw({ kind: 'uniform', minMs: 0, maxMs: 10 }, 3, 50), draw({ kind: 'uniform', minMs: 0, maxMs: 10 }, 4, 50));
  t.true(draw({ kind: 'fixed', ms: 7 }, 1, 10).every((x) => x === 7));
  const u = draw({ kind: 'uniform', minMs: 5, maxMs: 10 }, 1, 5000);
  t.true(u.every((x) => x >= 5 && x <= 10));
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  t.true(Math.abs(mean(draw({ kind: 'normal', meanMs: 50, stdMs: 10 }, 1, 5000)) - 50) < 1.5);
  t.true(draw({ kind: 'normal', meanMs: 1, stdMs: 10 }, 1, 1000).every((x) => x >= 0));
  t.true(Math.abs(median(draw({ kind: 'lognormal', medianMs: 20, sigma: 0.8 }, 1, 5000)) - 20) < 2);
});

test('latency delays the response headers', async (t) => {
  const up = await upstream(t, { routes: { chat: { latency: { kind: 'fixed', ms: 150 } } } });
  const t0 = performance.now();
  await (await chat(up.url)).text();
  t.true(performance.now() - t0 >= 145);
});

test('errors: each status answers about its share of requests, the same way for the same seed', async (t) => {
  const run = async (seed: number) => {
    const up = await upstream(t, { seed, routes: { json: { errors: [{ status: 503, rate: 0.3 }, { status: 400, rate: 0.1 }] } } });
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await fetch(`${up.url}/json`)).status);
    return statuses;
  };
  const a = await run(11);
  t.deepEqual(a, await run(11));
  const share = (s: number) => a.filter((x) => x === s).length / a.length;
  t.true(share(503) > 0.18 && share(503) < 0.42, String(share(503)));
  t.true(share(400) > 0.03 && share(400) < 0.2, String(share(400)));
});

test('throttle: a 429 storm after startAfter requests, announced as asked, then service again', async (t) => {
  for (const header of ['ms', 'seconds', 'http-date'] as const) {
    const up = await upstream(t, { routes: { chat: { throttle: { startAfter: 2, durationMs: 200, header } } } });
    t.is((await chat(up.url)).status, 200);
    t.is((await chat(up.url)).status, 200);
    const sent = performance.now();
    const res = await chat(up.url);
    const elapsed = performance.now() - sent;
    t.is(res.status, 429);
    // What is left of the storm, which began when this request arrived.
    const left = Number(res.headers.get('retry-after-ms'));
    if (header === 'ms') t.true(left >= 200 - elapsed - 1 && left <= 200, `${left} ms left after ${elapsed.toFixed(1)} ms`);
    if (header === 'seconds') t.is(res.headers.get('retry-after'), '1');
    if (header === 'http-date') t.false(Number.isNaN(Date.parse(res.headers.get('retry-after')!)));
    t.like(await res.json(), { error: { type: 'rate_limit_exceeded' } });
    await new Promise((r) => setTimeout(r, 220)); // the storm's own length: the behaviour under test
    t.is((await chat(up.url)).status, 200);
  }
});

test('rateLimit: x-ratelimit-* headers count down; enforce answers 429 until the window resets', async (t) => {
  const up = await upstream(t, { routes: { chat: { rateLimit: { requests: 3, tokens: 100_000, windowMs: 60_000, enforce: true } } } });
  const remaining: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await chat(up.url);
    t.is(res.status, 200);
    remaining.push(res.headers.get('x-ratelimit-remaining-requests')!);
    t.regex(res.headers.get('x-ratelimit-reset-requests')!, /^\d+(\.\d+)?(ms|s)$|^\d+m\d+(\.\d+)?s$/);
    t.true(Number(res.headers.get('x-ratelimit-remaining-tokens')) < 100_000);
  }
  t.deepEqual(remaining, ['2', '1', '0']);
  const refused = await chat(up.url);
  t.is(refused.status, 429);
  t.true(Number(refused.headers.get('retry-after-ms')) > 50_000);
});

test('resets: the connection is destroyed without a response', async (t) => {
  const up = await upstream(t, { routes: { chat: { resetRate: 1 } } });
  await t.throwsAsync(chat(up.url));
  t.is(up.stats().resets, 1);
});

test('streams: chunk count and size, slow streams, reset mid-stream', async (t) => {
  const up = await upstream(t, { routes: { chat: { stream: { chunks: 5, chunkBytes: 3, intervalMs: 30 } }, completions: { stream: { chunks: 10, resetAfter: 2 } } } });
  const t0 = performance.now();
  const text = await (await chat(up.url, { stream: true })).text();
  t.true(performance.now() - t0 >= 4 * 30 - 5);
  const events = text.split('\n\n').filter(Boolean);
  t.is(events.length, 1 + 5 + 1 + 1); // role, content, finish, [DONE]
  t.is(events.at(-1), 'data: [DONE]');
  t.is(JSON.parse(events[1]!.slice(6)).choices[0].delta.content.length, 3);
  await t.throwsAsync(async () => {
    const res = await fetch(`${up.baseURL}/completions`, { method: 'POST', body: '{"prompt":"x","stream":true}' });
    await res.text();
  });
  t.is(up.stats().resets, 1);
});

test('arrivals: the upstream logs every request arrival, per route, in order', async (t) => {
  const up = await upstream(t);
  const before = performance.now();
  await chat(up.url);
  await fetch(`${up.url}/json`);
  await chat(up.url);
  t.is(up.arrivals.total, 3);
  const times = up.arrivals.times();
  t.is(times.length, 3);
  t.true(times[0]! >= before && times[0]! <= times[1]! && times[1]! <= times[2]! && times[2]! <= performance.now());
  t.is(up.arrivals.times('chat').length, 2);
  t.is(up.arrivals.countBetween(before, Infinity, 'json'), 1);
});

test('arrivals: a burst read in one poll phase on kept-alive connections is stamped when the phase first saw it, never before it was written', async (t) => {
  t.timeout(30_000);
  const up = await upstream(t);
  const port = Number(new URL(up.url).port);
  const sockets = await Promise.all(
    Array.from({ length: 30 }, () => new Promise<net.Socket>((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); })),
  );
  t.teardown(() => { for (const s of sockets) s.destroy(); });
  const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });
  const raw = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  // Resolves once a whole response has come back on `s` (a response may arrive in several
  // chunks); a socket that closes first fails the test instead of leaving it waiting.
  const answered = (s: net.Socket) =>
    new Promise<void>((resolve, reject) => {
      let got = '';
      const onData = (chunk: Buffer) => {
        got += chunk.toString('latin1');
        const head = got.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(got);
        if (head === -1 || length === null || got.length < head + 4 + Number(length[1])) return;
        s.off('data', onData).off('close', onClose);
        resolve();
      };
      const onClose = () => reject(new Error(`a connection closed before its answer (${got.length} bytes in)`));
      s.on('data', onData).once('close', onClose);
    });
  const round = async () => {
    const replies = sockets.map(answered);
    for (const s of sockets) s.write(raw);
    // This thread is the upstream's: it cannot have read any of them before now.
    const written = performance.now();
    await Promise.all(replies);
    return written;
  };
  // A new connection's first request is read in a loop iteration of its own (accepted, then
  // watched): stamped at its own turn, still never early. Keep-alive connections are the case.
  await round();
  up.arrivals.clear();
  const first = await round();
  const second = await round();
  const times = up.arrivals.times();
  t.is(times.length, 60);
  const a = new Set(times.slice(0, 30));
  const b = new Set(times.slice(30));
  // One wait for I/O returned them all: one stamp (two if the kernel split the burst), not 30.
  t.true(a.size <= 2 && b.size <= 2, `distinct stamps per burst: ${a.size}, ${b.size}`);
  t.true(times.slice(0, 30).every((x) => x >= first), 'never earlier than the burst was written');
  t.true(times.slice(30).every((x) => x >= second), 'a later burst gets a stamp of its own');
});

test('ArrivalLog - a fixed-size ring: keeps the newest arrivals; window and gap queries', (t) => {
  const log = new ArrivalLog(4);
  for (const at of [0, 10, 20, 500, 510, 520]) log.record(at, 'chat');
  t.is(log.total, 6);
  t.is(log.size, 4);
  t.deepEqual([...log.times()], [20, 500, 510, 520]);
  t.is(log.maxInWindow(100), 3);
  t.is(log.maxInWindow(21), 3);
  t.is(log.maxInWindow(20), 2);
  t.deepEqual(log.longestGap(), { start: 20, end: 500, ms: 480 });
  t.is(log.countBetween(500, 520), 2);
  log.clear();
  t.is(log.size, 0);
});

test('ArrivalLog - a ring larger than its first arrays keeps every arrival in order as it grows, then the newest', (t) => {
  const log = new ArrivalLog(10_000);
  const routes = ['chat', 'embeddings'] as const;
  for (let k = 0; k < 9_999; k++) log.record(k, routes[k % 2]!);
  t.deepEqual([...log.times()], Array.from({ length: 9_999 }, (_, k) => k));
  t.deepEqual([...log.times('embeddings')], Array.from({ length: 4_999 }, (_, k) => 2 * k + 1));
  for (let k = 9_999; k < 25_000; k++) log.record(k, routes[k % 2]!);
  t.is(log.size, 10_000);
  t.deepEqual([...log.times()], Array.from({ length: 10_000 }, (_, k) => 15_000 + k));
  t.deepEqual([...log.times('chat')], Array.from({ length: 5_000 }, (_, k) => 15_000 + 2 * k));
});

test('close() destroys keep-alive and streaming connections at once', async (t) => {
  const up = await startMockUpstream({ keepAliveTimeoutMs: 60_000, routes: { chat: { stream: { chunks: 100, silentAfter: 1 } } } });
  t.teardown(() => up.close());
  const agents = [new http.Agent({ keepAlive: true }), new http.Agent({ keepAlive: true })];
  t.teardown(() => agents.forEach((a) => a.destroy()));
  const get = (path: string, body: string, agent: http.Agent) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${up.url}${path}`, { method: 'POST', agent }, resolve);
      req.on('error', reject);
      req.end(body);
    });
  const idle = await get('/json', '{}', agents[0]!);
  idle.resume();
  await new Promise((r) => idle.once('end', r));
  const silent = await get('/v1/chat/completions', '{"stream":true,"messages":[{"role":"user","content":"x"}]}', agents[1]!);
  silent.resume();
  silent.on('error', () => {});
  t.is(up.connections(), 2);
  const t0 = performance.now();
  await up.close();
  t.true(performance.now() - t0 < 2000);
  t.is(up.connections(), 0);
});

test('warm(n): serves n requests to itself on new connections, then forgets them; a provider window still starts at the first real request', async (t) => {
  const up = await upstream(t, { routes: { chat: { rateLimit: { requests: 3, windowMs: 60_000 } } } });
  await up.warm(5);
  t.is(up.arrivals.total, 0);
  const s = up.stats();
  t.deepEqual(Object.values(s.requests), [0, 0, 0, 0, 0, 0]);
  t.deepEqual(s.statuses, {});
  const res = await chat(up.url);
  t.is(res.status, 200);
  t.is(res.headers.get('x-ratelimit-remaining-requests'), '2', 'the window counts the first real request as its first');
  t.is(up.arrivals.total, 1);
  t.is(up.stats().requests.chat, 1);
  t.deepEqual(up.stats().statuses, { 200: 1 });
});
