import http from 'node:http';
import type { Socket } from 'node:net';
import { now } from '../core/clock.js';
import { assertConfig, compile } from '../core/validate.js';
import { ArrivalLog } from './arrival-log.js';
import { MockUpstreamOptionsSchema, ROUTE_NAMES, type MockUpstreamOptions, type RouteName, type RouteOptions } from './mock-options.js';
import * as payload from './mock-payloads.js';
import { sampleLatency, seededRandom } from './mock-random.js';

export type { MockUpstreamOptions, RouteOptions };

export interface MockUpstreamStats {
  /** Requests per route (`other`: unknown paths). */
  requests: Record<RouteName | 'other', number>;
  /** Responses started, by status. */
  statuses: Record<string, number>;
  /** Connections destroyed on purpose (`resetRate`, `stream.resetAfter`). */
  resets: number;
  /** Connections open now (in use or idle keep-alive). */
  connections: number;
  /** Requests being answered now, and the most there ever were at once. */
  inFlight: number;
  peakInFlight: number;
}

export interface MockUpstream {
  /** `http://127.0.0.1:<port>`: the origin. Routes are served with and without a `/v1` prefix. */
  readonly url: string;
  /** `url + '/v1'`: what an OpenAI client takes as its base URL. */
  readonly baseURL: string;
  /** When each request arrived, as the upstream saw it (see `ArrivalLog`). */
  readonly arrivals: ArrivalLog;
  stats(): MockUpstreamStats;
  /** Connections open now. */
  connections(): number;
  /**
   * Serves `requests` GETs of the model list to itself, each on a new connection, then forgets
   * them (arrivals, counts, statuses): the accept and request path runs warm from the first
   * real request, as a provider's front end does. Routes, their windows and storms are untouched.
   */
  warm(requests: number): Promise<void>;
  /** Stops listening and destroys every connection, keep-alive and streaming ones included. */
  close(): Promise<void>;
}

const checkOptions = compile(MockUpstreamOptionsSchema, { lazy: true });
const MAX_BODY_BYTES = 16 * 1024 * 1024;

interface RouteState {
  readonly name: RouteName;
  readonly opts: RouteOptions;
  readonly random: () => number;
  served: number;
  stormStart: number | undefined;
  windowStart: number | undefined;
  windowRequests: number;
  windowTokens: number;
}

/**
 * Starts an OpenAI-compatible upstream on loopback: `POST /v1/chat/completions` (JSON or SSE with
 * `stream: true`), `/v1/completions` (likewise), `/v1/embeddings`, and `/json/*` (any method; echoes
 * method, path, query and body with a `data` padding). Each route is configurable: latency
 * distribution, error rate by status, 429 storms with retry-after, resets, malformed or wrongly
 * shaped bodies, slow, silent or reset streams, chunk count and size, response size,
 * `x-ratelimit-*` headers. Every random choice comes from a seeded generator.
 * @example const up = await startMockUpstream({ routes: { chat: { latency: { kind: 'fixed', ms: 20 } } } });
 */
export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  assertConfig(checkOptions, options, 'mock upstream options');
  const seed = options.seed ?? 1;
  const routes = new Map<RouteName, RouteState>();
  ROUTE_NAMES.forEach((name, i) => {
    routes.set(name, {
      name,
      opts: merge(options.defaults, options.routes?.[name]),
      random: seededRandom(seed * 31 + i + 1),
      served: 0,
      stormStart: undefined,
      windowStart: undefined,
      windowRequests: 0,
      windowTokens: 0,
    });
  });
  const arrivals = new ArrivalLog(options.arrivalCapacity ?? 1 << 20);
  const requests = { other: 0, chat: 0, completions: 0, embeddings: 0, json: 0, messages: 0 };
  const statuses: Record<string, number> = {};
  let resets = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const auth = options.apiKey === undefined ? undefined : `Bearer ${options.apiKey}`;
  let responses = 0;
  // Every response carries a request id, as the real APIs do (clients surface it in errors).
  const requestId = () => `req_mock_${(++responses).toString(16).padStart(8, '0')}`;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closed) return;
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const send = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    statuses[status] = (statuses[status] ?? 0) + 1;
    const id = requestId();
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': id, 'request-id': id, ...headers });
    res.end(body);
  };
  const reset = (res: http.ServerResponse) => {
    resets++;
    res.socket?.destroy();
  };

  // Every request read in one poll phase came back from one wait for I/O, so each had arrived
  // by the instant the phase saw its first one: stamping each at its own turn would add the
  // time spent on the requests before it (a burst of 30 was logged over several ms). A request
  // pipelined behind one already waiting could be read with it yet sent during the phase; the
  // clients here send one request per connection at a time.
  let phaseSaw: number | undefined;
  const clearPhase = () => (phaseSaw = undefined);
  const arrivedBy = (): number => {
    if (phaseSaw === undefined) {
      phaseSaw = now();
      setImmediate(clearPhase);
    }
    return phaseSaw;
  };

  const server = http.createServer((req, res) => {
    const at = arrivedBy();
    const name = routeOf(req.url ?? '/');
    arrivals.record(at, name);
    requests[name]++;
    peakInFlight = Math.max(peakInFlight, ++inFlight);
    res.once('close', () => inFlight--);
    readBody(req).then(
      (raw) => handle(req, res, at, name, raw).catch(() => res.destroy()),
      () => res.destroy(),
    );
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, at: number, name: RouteName | 'other', raw: Buffer): Promise<void> {
    if (name === 'other') {
      if (req.method === 'GET' && isModelsPath(req.url ?? '/')) return send(res, 200, JSON.stringify(payload.models()));
      return send(res, 404, errorBody('not found', 'invalid_request_error'));
    }
    const route = routes.get(name)!;
    route.served++;
    const anthropic = name === 'messages';
    const fail = (status: number, message: string, type: string) => send(res, status, anthropic ? payload.anthropicError(payload.anthropicErrorType(status), message) : errorBody(message, type));
    if (raw === TOO_LARGE) return fail(413, 'request body too large', 'invalid_request_error');
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : { value: parsed };
      } catch {
        return fail(400, 'request body is not valid JSON', 'invalid_request_error');
      }
    }
    // Never echo what was sent: it may be someone's real key.
    if (anthropic) {
      // `x-api-key` (the documented header); newer official SDKs send `Authorization: Bearer`.
      if (options.apiKey !== undefined && req.headers['x-api-key'] !== options.apiKey && req.headers.authorization !== auth) return fail(401, 'invalid x-api-key', 'authentication_error');
      if (req.headers['anthropic-version'] === undefined) return fail(400, 'anthropic-version: header is required', 'invalid_request_error');
    } else if (auth !== undefined && req.headers.authorization !== auth) {
      return fail(401, 'Incorrect API key provided.', 'invalid_request_error');
    }
    const o = route.opts;
    const promptChars = promptLength(body);
    const contentChars = o.responseBytes ?? 32;
    const u = payload.usage(promptChars, name === 'embeddings' ? 0 : contentChars);
    const limitHeaders = rateLimitHeaders(route, at, u.total_tokens);
    if (anthropic) limitHeaders.headers = anthropicLimitHeaders(limitHeaders.headers, limitHeaders.resetInMs);
    const decision = decide(route, at, limitHeaders);
    const latency = sampleLatency(o.latency, route.random);
    const malformed = route.random() < (o.malformedRate ?? 0);
    const wrongShape = !malformed && route.random() < (o.wrongShapeRate ?? 0);
    if (latency > 0) await pause(latency);
    if (closed || res.destroyed) return;
    if (decision.kind === 'reset') return reset(res);
    if (decision.kind === 'status') return send(res, decision.status, decision.body, { ...limitHeaders.headers, ...decision.headers });

    const model = typeof body['model'] === 'string' ? body['model'] : 'mock-model';
    const id = anthropic ? `msg_mock${route.served}` : `mock-${route.served}`;
    if (body['stream'] === true && anthropic) return streamMessages(res, route, id, model, u, limitHeaders.headers, malformed, wrongShape);
    if (body['stream'] === true && (name === 'chat' || name === 'completions')) {
      return stream(res, route, name, id, model, u, limitHeaders.headers, body, malformed, wrongShape);
    }
    let out: string;
    if (malformed) out = '{"id":"' + id + '","choices":[{"index":0,"mess';
    else if (wrongShape) out = JSON.stringify({ object: 'unexpected', value: 42 });
    else out = JSON.stringify(responseFor(name, req, body, id, model, u, o));
    send(res, 200, out, limitHeaders.headers);
  }

  async function stream(
    res: http.ServerResponse,
    route: RouteState,
    name: 'chat' | 'completions',
    id: string,
    model: string,
    u: payload.Usage,
    headers: Record<string, string>,
    body: Record<string, unknown>,
    malformed: boolean,
    wrongShape: boolean,
  ): Promise<void> {
    const s = route.opts.stream ?? {};
    const chunks = s.chunks ?? 8;
    const size = route.opts.responseBytes !== undefined ? Math.ceil(route.opts.responseBytes / chunks) : (s.chunkBytes ?? 16);
    const whole = payload.text(size * chunks);
    const streamed = { prompt_tokens: u.prompt_tokens, completion_tokens: Math.ceil((chunks * size) / 4), total_tokens: u.prompt_tokens + Math.ceil((chunks * size) / 4) };
    const badAt = Math.floor(chunks / 2);
    statuses[200] = (statuses[200] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': requestId(), ...headers });
    const write = async (data: string) => {
      if (closed || res.destroyed) return false;
      if (s.comments) res.write(': keep-alive\n\n');
      let event = `data: ${data}\n\n`;
      if (s.multilineData) {
        const cut = data.indexOf(',"');
        if (cut > 0) event = `data: ${data.slice(0, cut + 1)}\ndata: ${data.slice(cut + 1)}\n\n`;
      }
      let ok: boolean;
      if (s.splitEvents) {
        const mid = Math.floor(event.length / 2);
        res.write(event.slice(0, mid));
        await new Promise((r) => setImmediate(r));
        if (res.destroyed) return false;
        ok = res.write(event.slice(mid));
      } else {
        ok = res.write(event);
      }
      if (!ok && !res.destroyed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done).off('close', done);
            resolve();
          };
          res.once('drain', done).once('close', done);
        });
      }
      return !res.destroyed;
    };
    const chunkOf = (content: string, finish: string | null, usage?: payload.Usage) =>
      JSON.stringify(name === 'chat' ? payload.chatChunk(id, model, usage === undefined && content === '' && finish === null ? { role: 'assistant', content: '' } : { content }, finish, usage) : payload.completionChunk(id, model, content, finish, usage));

    if (name === 'chat' && !(await write(chunkOf('', null)))) return;
    for (let i = 0; i < chunks; i++) {
      if (s.silentAfter !== undefined && i >= s.silentAfter) return; // keep the connection open, send nothing
      if (s.resetAfter !== undefined && i >= s.resetAfter) return reset(res);
      if (i > 0 && (s.intervalMs ?? 0) > 0) await pause(s.intervalMs!);
      const data = i === badAt && malformed ? '{"id":"' + id + '","choi' : i === badAt && wrongShape ? '{"unexpected":true}' : chunkOf(whole.slice(i * size, (i + 1) * size), null);
      if (!(await write(data))) return;
    }
    if (!(await write(chunkOf('', 'stop')))) return;
    const opts = body['stream_options'] as { include_usage?: unknown } | undefined;
    if (opts?.include_usage === true && !(await write(chunkOf('', null, streamed)))) return;
    if (!(await write('[DONE]'))) return;
    res.end();
  }

  /** Anthropic's SSE: named events from `message_start` to `message_stop`, no `[DONE]`. */
  async function streamMessages(res: http.ServerResponse, route: RouteState, id: string, model: string, u: payload.Usage, headers: Record<string, string>, malformed: boolean, wrongShape: boolean): Promise<void> {
    const s = route.opts.stream ?? {};
    const chunks = s.chunks ?? 8;
    const size = route.opts.responseBytes !== undefined ? Math.ceil(route.opts.responseBytes / chunks) : (s.chunkBytes ?? 16);
    const whole = payload.text(size * chunks);
    const parts = Array.from({ length: chunks }, (_, i) => whole.slice(i * size, (i + 1) * size));
    const streamed = { prompt_tokens: u.prompt_tokens, completion_tokens: Math.ceil((chunks * size) / 4), total_tokens: u.prompt_tokens + Math.ceil((chunks * size) / 4) };
    const events = payload.messageEvents(id, model, parts, streamed);
    statuses[200] = (statuses[200] ?? 0) + 1;
    const rid = requestId();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': rid, 'request-id': rid, ...headers });
    let delta = 0;
    for (const [event, data] of events) {
      if (closed || res.destroyed) return;
      let text = JSON.stringify(data);
      if (event === 'content_block_delta') {
        if (s.silentAfter !== undefined && delta >= s.silentAfter) return;
        if (s.resetAfter !== undefined && delta >= s.resetAfter) return reset(res);
        if (delta > 0 && (s.intervalMs ?? 0) > 0) await pause(s.intervalMs!);
        if (closed || res.destroyed) return;
        if (delta === Math.floor(chunks / 2)) {
          if (malformed) text = '{"type":"content_block_delta","ind';
          else if (wrongShape) text = '{"unexpected":true}';
        }
        delta++;
      }
      if (!res.write(`event: ${event}\ndata: ${text}\n\n`) && !res.destroyed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done).off('close', done);
            resolve();
          };
          res.once('drain', done).once('close', done);
        });
      }
    }
    res.end();
  }

  function decide(route: RouteState, at: number, limits: { exceededMs: number | undefined; headers: Record<string, string> }): Decision {
    const o = route.opts;
    const th = o.throttle;
    const anthropic = route.name === 'messages';
    if (th !== undefined && route.served > (th.startAfter ?? 0)) {
      route.stormStart ??= at;
      if (th.repeatEveryMs !== undefined && at - route.stormStart >= th.repeatEveryMs) {
        route.stormStart += Math.floor((at - route.stormStart) / th.repeatEveryMs) * th.repeatEveryMs;
      }
      const left = th.durationMs - (at - route.stormStart);
      if (left > 0) return tooMany(left, th.header ?? 'ms', anthropic);
    }
    if (limits.exceededMs !== undefined) return tooMany(limits.exceededMs, 'ms', anthropic);
    const r = route.random();
    let acc = 0;
    for (const e of o.errors ?? []) {
      acc += e.rate;
      if (r < acc) {
        if (e.status === 429) return tooMany(e.retryAfterMs ?? 1000, 'ms', anthropic);
        const headers: Record<string, string> = e.retryAfterMs === undefined ? {} : { 'retry-after': String(Math.ceil(e.retryAfterMs / 1000)) };
        const body = anthropic ? payload.anthropicError(payload.anthropicErrorType(e.status), e.status === 529 ? 'Overloaded' : `simulated HTTP ${e.status}`) : errorBody(`simulated HTTP ${e.status}`, e.status >= 500 ? 'server_error' : 'invalid_request_error');
        return { kind: 'status', status: e.status, body, headers };
      }
    }
    if (route.random() < (o.resetRate ?? 0)) return { kind: 'reset' };
    return { kind: 'ok' };
  }

  /** Provider-style fixed windows; `exceededMs` is set when `enforce` refuses this request. */
  function rateLimitHeaders(route: RouteState, at: number, tokens: number): { exceededMs: number | undefined; headers: Record<string, string>; resetInMs: number } {
    const rl = route.opts.rateLimit;
    if (rl === undefined) return { exceededMs: undefined, headers: {}, resetInMs: 0 };
    if (route.windowStart === undefined || at >= route.windowStart + rl.windowMs) {
      route.windowStart = route.windowStart === undefined ? at : route.windowStart + Math.floor((at - route.windowStart) / rl.windowMs) * rl.windowMs;
      route.windowRequests = 0;
      route.windowTokens = 0;
    }
    const resetIn = route.windowStart + rl.windowMs - at;
    const over = (rl.requests !== undefined && route.windowRequests + 1 > rl.requests) || (rl.tokens !== undefined && route.windowTokens + tokens > rl.tokens);
    const refused = over && rl.enforce === true;
    if (!refused) {
      route.windowRequests++;
      route.windowTokens += tokens;
    }
    const headers: Record<string, string> = {};
    if (rl.requests !== undefined) {
      headers['x-ratelimit-limit-requests'] = String(rl.requests);
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, rl.requests - route.windowRequests));
      headers['x-ratelimit-reset-requests'] = formatDuration(resetIn);
    }
    if (rl.tokens !== undefined) {
      headers['x-ratelimit-limit-tokens'] = String(rl.tokens);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, rl.tokens - route.windowTokens));
      headers['x-ratelimit-reset-tokens'] = formatDuration(resetIn);
    }
    return { exceededMs: refused ? resetIn : undefined, headers, resetInMs: resetIn };
  }

  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('mock upstream has no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    baseURL: `${url}/v1`,
    arrivals,
    stats: () => ({ requests: { ...requests }, statuses: { ...statuses }, resets, connections: sockets.size, inFlight, peakInFlight }),
    connections: () => sockets.size,
    warm: async (n) => {
      const agent = new http.Agent({ keepAlive: false });
      try {
        for (let i = 0; i < n; i++) await get(`${url}/v1/models`, agent);
      } finally {
        agent.destroy();
      }
      arrivals.clear();
      for (const k of Object.keys(requests) as (keyof typeof requests)[]) requests[k] = 0;
      for (const k of Object.keys(statuses)) delete statuses[k];
      peakInFlight = inFlight;
    },
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      const gone = [...sockets].map((s) => new Promise<void>((resolve) => s.once("close", () => resolve())));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      return Promise.all([done, ...gone]).then(() => undefined);
    },
  };
}

type Decision = { kind: 'ok' } | { kind: 'reset' } | { kind: 'status'; status: number; body: string; headers: Record<string, string> };

/** A 429. Anthropic announces the wait only in `retry-after` seconds, so `ms` becomes seconds there. */
function tooMany(ms: number, header: 'seconds' | 'ms' | 'http-date' | 'none', anthropic = false): Decision {
  const headers: Record<string, string> = {};
  if (anthropic) {
    if (header === 'ms' || header === 'seconds') headers['retry-after'] = String(Math.ceil(ms / 1000));
    else if (header === 'http-date') headers['retry-after'] = new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toUTCString();
    return { kind: 'status', status: 429, body: payload.anthropicError('rate_limit_error', 'Number of requests has exceeded your rate limit. Please try again later.'), headers };
  }
  // Never early: whole seconds and HTTP-dates round up; retry-after-ms keeps the microsecond.
  if (header === 'seconds') headers['retry-after'] = String(Math.ceil(ms / 1000));
  else if (header === 'ms') headers['retry-after-ms'] = String(Math.ceil(ms * 1000) / 1000);
  else if (header === 'http-date') headers['retry-after'] = new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toUTCString();
  return { kind: 'status', status: 429, body: errorBody('Rate limit reached; please retry later.', 'rate_limit_exceeded'), headers };
}

function responseFor(name: RouteName, req: http.IncomingMessage, body: Record<string, unknown>, id: string, model: string, u: payload.Usage, o: RouteOptions): unknown {
  const size = o.responseBytes ?? 32;
  switch (name) {
    case 'chat':
      return payload.chatCompletion(id, model, payload.text(size), u);
    case 'completions':
      return payload.completion(id, model, payload.text(size), u);
    case 'embeddings': {
      const input = body['input'];
      const inputs = Array.isArray(input) && typeof input[0] !== 'number' ? Math.max(1, input.length) : 1;
      const dims = o.responseBytes !== undefined ? Math.max(1, Math.ceil(o.responseBytes / (10 * inputs))) : (o.dimensions ?? 16);
      return payload.embeddings(model, inputs, dims, u, body['encoding_format'] === 'base64');
    }
    case 'messages':
      return payload.message(id, model, payload.text(size), u);
    case 'json': {
      const u2 = new URL(req.url ?? '/', 'http://mock');
      return { ok: true, method: req.method, path: u2.pathname, query: Object.fromEntries(u2.searchParams), body, data: payload.text(size) };
    }
  }
}

function routeOf(url: string): RouteName | 'other' {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  if (path.startsWith('/v1/')) path = path.slice(3);
  if (path === '/chat/completions') return 'chat';
  if (path === '/completions') return 'completions';
  if (path === '/embeddings') return 'embeddings';
  if (path === '/json' || path.startsWith('/json/')) return 'json';
  if (path === '/messages') return 'messages';
  return 'other';
}

function isModelsPath(url: string): boolean {
  const path = url.split('?', 1)[0]!;
  return path === '/v1/models' || path === '/models';
}

/**
 * The same fixed windows in Anthropic's words: `anthropic-ratelimit-{requests,tokens,input-tokens}-
 * {limit,remaining,reset}`, the reset an RFC 3339 instant.
 */
function anthropicLimitHeaders(openai: Record<string, string>, resetInMs: number): Record<string, string> {
  const out: Record<string, string> = {};
  const reset = new Date(Math.ceil(Date.now() + resetInMs)).toISOString();
  for (const [kind, names] of [['requests', ['requests']], ['tokens', ['tokens', 'input-tokens']]] as const) {
    const limit = openai[`x-ratelimit-limit-${kind}`];
    if (limit === undefined) continue;
    for (const name of names) {
      out[`anthropic-ratelimit-${name}-limit`] = limit;
      out[`anthropic-ratelimit-${name}-remaining`] = openai[`x-ratelimit-remaining-${kind}`]!;
      out[`anthropic-ratelimit-${name}-reset`] = reset;
    }
  }
  return out;
}

const TOO_LARGE = Buffer.alloc(0);

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) parts.push(c);
    });
    req.once('end', () => resolve(size > MAX_BODY_BYTES ? TOO_LARGE : parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    req.once('error', reject);
  });
}

function promptLength(body: Record<string, unknown>): number {
  let n = 0;
  const visit = (v: unknown, depth: number) => {
    if (typeof v === 'string') n += v.length;
    else if (depth < 6 && typeof v === 'object' && v !== null) for (const x of Object.values(v)) visit(x, depth + 1);
  };
  visit(body['messages'], 0);
  visit(body['prompt'], 0);
  visit(body['input'], 0);
  return n;
}

function errorBody(message: string, type: string): string {
  return JSON.stringify({ error: { message, type, code: null } });
}

/**
 * OpenAI's reset format (`250ms`, `1.5s`, `2m3s`) at full precision: rounded up to the
 * microsecond, never down, so a client that trusts it never comes back before the reset.
 */
export function formatDuration(ms: number): string {
  const us = Math.ceil(Math.max(0, ms) * 1000);
  if (us < 1_000_000) return `${us / 1000}ms`;
  if (us < 60_000_000) return `${us / 1_000_000}s`;
  const minutes = Math.floor(us / 60_000_000);
  return `${minutes}m${(us - minutes * 60_000_000) / 1_000_000}s`;
}

function merge(a: RouteOptions | undefined, b: RouteOptions | undefined): RouteOptions {
  return { ...a, ...b };
}

function get(url: string, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.once('end', resolve).once('error', reject);
      })
      .once('error', reject);
  });
}
