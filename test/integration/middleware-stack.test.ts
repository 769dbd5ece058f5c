import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import {
  CallContext,
  CircuitOpenError,
  DeadlineExceededError,
  Executor,
  PolicyError,
  RateLimitError,
  TransportError,
  defineService,
  type Middleware,
  type Service,
} from '../../src/index.js';
import { EXT } from '../helpers/paths.js';
import { circuitBreaker, type StateChange } from '../../src/middleware/circuit-breaker.js';
import { HookRegistry, HookType, type HookEvent } from '../../src/middleware/hook-registry.js';
import { hooks } from '../../src/middleware/hooks.js';
import { metrics } from '../../src/middleware/metrics.js';
import { policyGate } from '../../src/middleware/policy-gate.js';
import { redaction } from '../../src/middleware/redaction.js';
import { retry } from '../../src/middleware/retry.js';
import { timeout } from '../../src/middleware/timeout.js';

const SECRET = 'sk-test-PLANTEDplanted0123456789';

type Reply = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A real HTTP upstream on 127.0.0.1, answering request n with `script(n)`; closed in teardown. */
async function upstream(t: ExecutionContext, script: Reply): Promise<{ url: string; host: string; hits: () => number }> {
  let n = 0;
  const server = createServer((req, res) => script(req, res, ++n));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, hits: () => n };
}

/** An upstream error as a careless service would raise it: the body and the request echoed in. */
function upstreamError(status: number, body: string, request: unknown, retryAfter: string | null): Error {
  const message = `upstream answered ${status}: ${body}`;
  const context = { request, sent: { authorization: `Bearer ${SECRET}` } };
  if (status === 429) return new RateLimitError(message, retryAfter === null ? undefined : Number(retryAfter) * 1000, { context });
  return new TransportError(message, status, { retryable: status >= 500, context });
}

interface Req {
  path: string;
  headers?: Record<string, string>;
}

/** A service over `fetch` on the inline pool: JSON calls, NDJSON streams; requires `net.out:<host>`. */
function service(base: { url: string; host: string }): Service<Req, unknown, unknown> {
  const open = async (req: Req, signal: AbortSignal) => {
    const res = await fetch(base.url + req.path, { headers: { authorization: `Bearer ${SECRET}`, ...req.headers }, signal });
    if (!res.ok) throw upstreamError(res.status, await res.text(), req, res.headers.get('retry-after'));
    return res;
  };
  return defineService<Req, unknown, unknown>({
    name: 'upstream',
    requires: ['net.out'],
    rights: () => [`net.out:${base.host}`],
    options: { apiKey: SECRET },
    handler: {
      async call(req, _ctx, signal) {
        return (await open(req, signal)).json();
      },
      async *stream(req, _ctx, signal) {
        const res = await open(req, signal);
        let buffered = '';
        for await (const piece of res.body!.pipeThrough(new TextDecoderStream())) {
          buffered += piece;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line === '!') throw new TransportError(`stream cut; key was ${SECRET}`, 502, { retryable: true });
            if (line !== '') yield JSON.parse(line) as unknown;
          }
        }
      },
    },
  });
}

/** The whole stack in the recommended order, everything observable collected. */
function stack(options: { timeoutMs?: number; maxAttempts?: number; trip?: number } = {}) {
  const hookErrors: unknown[] = [];
  const registry = new HookRegistry({ defaultTimeoutMs: 500, onError: (e) => hookErrors.push({ message: e.message, stack: e.stack, context: e.context }) });
  const events: HookEvent[] = [];
  for (const type of Object.values(HookType)) registry.register(type, (e) => { events.push(e); });
  const m = metrics();
  const breaker = circuitBreaker({ trip: { consecutive: options.trip ?? 3 }, openMs: 60_000 });
  const changes: StateChange[] = [];
  breaker.on('stateChange', (c) => changes.push(c));
  const middleware: Middleware[] = [
    redaction(),
    m,
    policyGate(),
    hooks(registry),
    breaker,
    retry({ maxAttempts: options.maxAttempts ?? 3, baseDelayMs: 5, maxDelayMs: 20 }),
    timeout(options.timeoutMs ?? 5_000),
  ];
  return { middleware, registry, events, hookErrors, metrics: m, breaker, changes };
}

const granted = (host: string, attrs: Record<string, unknown> = {}) => CallContext.withTimeout('branch', 10_000, { capabilities: ['net.out', `net.out:${host}`], attrs });

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

test('stack, calls: retried through 503s to success; hooks, metrics and breaker see one call', async (t) => {
  const up = await upstream(t, (_req, res, n) => (n < 3 ? json(res, 503, { error: 'busy' }) : json(res, 200, { answer: 42 })));
  const s = stack();
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  t.deepEqual(await ex.call(service(up), { path: '/v1' }, granted(up.host)), { answer: 42 });
  t.is(up.hits(), 3);
  t.deepEqual(s.events.map((e) => e.type), ['PRE_CALL', 'POST_CALL']);
  t.deepEqual(s.metrics.snapshot().services['upstream']!.calls.outcomes, { ok: 1 });
  t.is(s.breaker.state('upstream'), 'closed');
  t.is(ex.stats().completed, 1);
});

test('stack, calls: a policy denial runs nothing, reaches no upstream, and is counted', async (t) => {
  const up = await upstream(t, (_req, res) => json(res, 200, {}));
  const s = stack();
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  const ctx = CallContext.new('branch', { capabilities: ['net.out', 'net.out:example.com'] });
  const err = await t.throwsAsync(ex.call(service(up), { path: '/' }, ctx), { instanceOf: PolicyError });
  t.deepEqual(err!.missing, [`net.out:${up.host}`]);
  t.is(up.hits(), 0);
  t.deepEqual(s.events, []);
  t.deepEqual(s.metrics.snapshot().services['upstream']!.calls.outcomes, { E_POLICY: 1 });
});

test('stack, calls: the breaker opens on repeated 503s and then refuses without reaching the upstream', async (t) => {
  const up = await upstream(t, (_req, res) => json(res, 503, { error: 'down' }));
  const s = stack({ maxAttempts: 1, trip: 2 });
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  const svc = service(up);
  await t.throwsAsync(ex.call(svc, { path: '/' }, granted(up.host)), { code: 'E_TRANSPORT' });
  await t.throwsAsync(ex.call(svc, { path: '/' }, granted(up.host)), { code: 'E_TRANSPORT' });
  await t.throwsAsync(ex.call(svc, { path: '/' }, granted(up.host)), { instanceOf: CircuitOpenError });
  t.is(up.hits(), 2);
  t.deepEqual(s.changes.map((c) => `${c.from}->${c.to}`), ['closed->open']);
  t.deepEqual(s.metrics.snapshot().services['upstream']!.calls.outcomes, { E_TRANSPORT: 2, E_CIRCUIT_OPEN: 1 });
});

test('stack, calls: a hung attempt times out, the next one succeeds, within the deadline', async (t) => {
  const up = await upstream(t, (_req, res, n) => {
    if (n > 1) json(res, 200, { ok: n });
  });
  const s = stack({ timeoutMs: 400, maxAttempts: 5 });
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  const { ok } = (await ex.call(service(up), { path: '/' }, granted(up.host))) as { ok: number };
  // The first attempt hung and was abandoned; a later one answered (which one depends on load).
  t.true(ok >= 2);
  t.is(up.hits(), ok);
});

test('stack, calls: a Retry-After beyond the deadline fails at once with DeadlineExceededError(retry)', async (t) => {
  const up = await upstream(t, (_req, res) => json(res, 429, { error: 'slow down' }, { 'retry-after': '30' }));
  const s = stack();
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  const start = performance.now();
  const ctx = CallContext.withTimeout('branch', 5_000, { capabilities: ['net.*'] });
  const err = await t.throwsAsync(ex.call(service(up), { path: '/' }, ctx), { instanceOf: DeadlineExceededError });
  // Failed by retry's own check (phase 'retry'), not by the deadline passing while it slept.
  t.is(err!.phase, 'retry');
  t.true(performance.now() - start < 5_000);
  t.is(up.hits(), 1);
});

test('stack, streams: chunks flow through every layer; a failure before the first chunk is retried', async (t) => {
  const up = await upstream(t, (_req, res, n) => {
    if (n === 1) return json(res, 503, { error: 'warming up' });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (let i = 0; i < 5; i++) res.write(`${JSON.stringify({ i })}\n`);
    res.end();
  });
  const s = stack();
  s.registry.register(HookType.STREAM_CHUNK, (e) => ({ ...(e.chunk as object), seen: true }));
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  const got: unknown[] = [];
  for await (const c of ex.stream(service(up), { path: '/stream' }, granted(up.host))) got.push(c);
  t.deepEqual(got, [0, 1, 2, 3, 4].map((i) => ({ i, seen: true })));
  t.is(up.hits(), 2);
  t.deepEqual(s.events.filter((e) => e.type !== 'STREAM_CHUNK').map((e) => e.type), ['PRE_STREAM', 'POST_STREAM']);
  const streams = s.metrics.snapshot().services['upstream']!.streams;
  t.deepEqual(streams.outcomes, { ok: 1 });
  t.is(streams.chunks, 5);
  t.is(ex.stats().completed, 1);
});

test('stack, streams: a failure after the first chunk is not retried and counts against the breaker', async (t) => {
  const up = await upstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"i":0}\n!\n');
  });
  const s = stack({ trip: 1 });
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  const got: unknown[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const c of ex.stream(service(up), { path: '/' }, granted(up.host))) got.push(c);
  }, { instanceOf: TransportError });
  t.deepEqual(got, [{ i: 0 }]);
  t.false(err!.message.includes(SECRET));
  t.is(up.hits(), 1);
  t.is(s.breaker.state('upstream'), 'open');
  t.deepEqual(s.events.map((e) => e.type).filter((x) => x !== 'STREAM_CHUNK'), ['PRE_STREAM', 'STREAM_ERROR']);
});

test('redaction: a secret planted everywhere appears in no output', async (t) => {
  const up = await upstream(t, (req, res, n) => {
    // Echo what a careless upstream echoes: the credentials it was sent.
    if (n % 2 === 1) json(res, 401, { error: `bad key ${req.headers.authorization ?? ''}`, cookie: `session=${SECRET}` });
    else json(res, 503, { error: `retry later, token=${SECRET}` });
  });
  const s = stack({ maxAttempts: 2, trip: 100 });
  const settled: unknown[] = [];
  s.registry.register(HookType.PRE_CALL, () => { throw new Error(`hook failed with ${SECRET}`); });
  const ex = new Executor({ pool: { kind: 'inline' }, middleware: s.middleware, historySize: 50 });
  ex.on('settled', (e) => settled.push(e));
  t.teardown(() => ex.close({ drain: false }));
  const svc = service(up);
  const ctx = granted(up.host, { password: SECRET, note: `Bearer ${SECRET}`, nested: { 'x-api-key': SECRET } });
  const request = { path: `/v1?api_key=${SECRET}`, headers: { 'x-api-key': SECRET, cookie: `sid=${SECRET}` } };
  const errors: unknown[] = [];
  for (let i = 0; i < 3; i++) errors.push(await ex.call(svc, request, ctx).catch((e: unknown) => e));
  // A denied call, whose error lists what was required, granted and missing.
  errors.push(await ex.call(svc, request, CallContext.new('b', { capabilities: [], attrs: { token: SECRET } })).catch((e: unknown) => e));
  // A stream that fails mid-way.
  const streamUp = await upstream(t, (_req, res) => res.writeHead(200).end('{"i":0}\n!\n'));
  const chunksSeen: unknown[] = [];
  errors.push(
    await (async () => {
      for await (const c of ex.stream(service(streamUp), request, granted(streamUp.host, { secret: SECRET }))) chunksSeen.push(c);
    })().catch((e: unknown) => e),
  );

  t.true(errors.every((e) => e instanceof Error), 'every call failed');
  t.true(s.hookErrors.length >= 3);
  t.true(s.events.some((e) => e.type === 'CALL_ERROR') && s.events.some((e) => e.type === 'STREAM_ERROR'));
  const outputs = {
    errors: errors.map((e) => {
      const x = e as Error & { context?: unknown; cause?: unknown };
      return { message: x.message, stack: x.stack, context: x.context, cause: x.cause instanceof Error ? { m: x.cause.message, s: x.cause.stack } : x.cause, own: { ...x } };
    }),
    hookEvents: s.events,
    hookErrors: s.hookErrors,
    metrics: s.metrics.snapshot(),
    prometheus: await s.metrics.prometheus(),
    stats: ex.stats(),
    settled,
    breaker: s.changes,
  };
  const text = JSON.stringify(outputs, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v));
  t.false(text.includes(SECRET), `leaked at …${text.slice(Math.max(0, text.indexOf(SECRET) - 120), text.indexOf(SECRET) + 40)}…`);
  // The errors stay useful: class and code kept.
  t.is((errors[0] as TransportError).code, 'E_TRANSPORT');
  t.true(errors[3] instanceof PolicyError);
});

test('stack on a piscina pool: calls and streams cross real worker threads through every layer', async (t) => {
  const fixture = (name: string) => defineService({ name, module: new URL(`../fixtures/handlers/${name}${EXT}`, import.meta.url) });
  const s = stack({ maxAttempts: 2, trip: 100 });
  const ex = new Executor({ pool: { kind: 'piscina', threads: 2 }, middleware: s.middleware });
  t.teardown(() => ex.close({ drain: false }));
  const ctx = () => CallContext.withTimeout('branch', 20_000);
  t.deepEqual(await ex.call(fixture('echo'), { text: 'hi' }, ctx()), { text: 'hi' });
  const got: unknown[] = [];
  for await (const c of ex.stream(fixture('echo'), { n: 50 }, ctx())) got.push(c);
  t.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
  // Fails after 3 chunks: passed through as they came, not retried.
  const partial: unknown[] = [];
  await t.throwsAsync(async () => {
    for await (const c of ex.stream(fixture('stream-fail'), { before: 3 }, ctx())) partial.push(c);
  }, { code: 'E_TRANSPORT' });
  t.deepEqual(partial, [0, 1, 2]);
  // A retryable error rebuilt from the worker is retried, then reported with its code.
  await t.throwsAsync(ex.call(fixture('throws-coded'), {}, ctx()), { instanceOf: TransportError });
  const snap = s.metrics.snapshot().services;
  t.deepEqual(snap['echo']!.calls.outcomes, { ok: 1 });
  t.deepEqual(snap['echo']!.streams.outcomes, { ok: 1 });
  t.is(snap['echo']!.streams.chunks, 50);
  t.deepEqual(snap['stream-fail']!.streams.outcomes, { E_TRANSPORT: 1 });
  t.deepEqual(snap['throws-coded']!.calls.outcomes, { E_TRANSPORT: 1 });
  t.is(s.events.filter((e) => e.type === 'CALL_ERROR').length, 1);
});
