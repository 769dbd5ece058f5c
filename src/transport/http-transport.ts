import http from 'node:http';
import https from 'node:https';
import fetch, { type Response } from 'node-fetch';
import { CancelledError, TransportError } from '../core/errors.js';
import type { HeaderReader } from './headers.js';
import { describeUrl, safePreview } from './redact.js';
import { decodeSse, type SseEvent } from './sse.js';
import { errorFromFailure, errorFromStatus } from './status-map.js';

/** One HTTP request, fully built (see `src/services/endpoint.ts`). */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

export interface SendOptions {
  /** Aborts the request (cancel, deadline); the error thrown is the signal's reason. */
  signal?: AbortSignal | undefined;
  /** JSON: the whole exchange; streams: until the response headers. @default 60_000 */
  timeoutMs?: number | undefined;
  /** Streams: longest silence allowed between two chunks. @default 30_000 */
  idleTimeoutMs?: number | undefined;
  /** Values that must never appear in an error (API keys); they are also masked by pattern. */
  secrets?: readonly string[] | undefined;
}

export interface JsonResponse {
  status: number;
  headers: HeaderReader;
  body: unknown;
}

export interface SseResponse {
  status: number;
  headers: HeaderReader;
  /** The decoded events; stop iterating early and the request is aborted. */
  events: AsyncIterable<SseEvent>;
  /** Aborts the request unless the stream has ended (for a consumer that never iterates `events`). */
  close(): void;
}

export interface TransportOptions {
  /** Sockets per origin. @default Infinity */
  maxSockets?: number;
  /** An idle keep-alive socket is closed after this long; keep it below the server's own. @default 4000 */
  freeSocketTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_IDLE_MS = 30_000;

/**
 * node-fetch with keep-alive agents (one for http, one for https). Every failure becomes a typed
 * error whose message names the method and the URL without its query; no header value is ever
 * put in an error. A 2xx JSON body that does not parse is a `TransportError` with a preview.
 */
export class HttpTransport {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #agent: (url: URL) => http.Agent;

  constructor(options: TransportOptions = {}) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? Infinity,
      scheduling: 'lifo' as const,
      timeout: options.freeSocketTimeoutMs ?? 4000,
    };
    this.#http = new http.Agent(agentOptions);
    this.#https = new https.Agent(agentOptions);
    this.#agent = (url) => (url.protocol === 'https:' ? this.#https : this.#http);
  }

  /** Sends a request and parses the JSON response body. */
  async json(req: HttpRequest, options: SendOptions = {}): Promise<JsonResponse> {
    const what = `${req.method} ${describeUrl(req.url)}`;
    const call = new Exchange(options, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      const res = await call.send(() => this.#fetch(req, call.signal), what);
      const text = await call.read(() => res.text(), what);
      if (res.status < 200 || res.status > 299) throw errorFromStatus(res.status, res.headers, text, what, options.secrets);
      return { status: res.status, headers: res.headers, body: res.status === 204 ? null : parseJson(text, res.status, what, options.secrets) };
    } finally {
      call.done();
    }
  }

  /**
   * Sends a request whose response is an SSE stream. Resolves once the headers are in (a non-2xx
   * status rejects with its typed error); the events then arrive with an idle timeout between
   * chunks, separate from the headers timeout and from the caller's deadline.
   */
  async sse(req: HttpRequest, options: SendOptions = {}): Promise<SseResponse> {
    const what = `${req.method} ${describeUrl(req.url)}`;
    const call = new Exchange(options, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let handedOver = false;
    try {
      const res = await call.send(() => this.#fetch(req, call.signal), what);
      if (res.status < 200 || res.status > 299) {
        const text = await call.read(() => res.text(), what);
        throw errorFromStatus(res.status, res.headers, text, what, options.secrets);
      }
      call.idle(options.idleTimeoutMs ?? DEFAULT_IDLE_MS, what);
      handedOver = true;
      return { status: res.status, headers: res.headers, events: call.events(res, what), close: () => call.cancel() };
    } finally {
      if (!handedOver) call.done();
    }
  }

  /** Open sockets (in use and idle) across both agents: for tests and leak checks. */
  sockets(): { active: number; idle: number } {
    return { active: countSockets(this.#http.sockets) + countSockets(this.#https.sockets), idle: countSockets(this.#http.freeSockets) + countSockets(this.#https.freeSockets) };
  }

  /** Destroys every socket; requests still running fail. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }

  #fetch(req: HttpRequest, signal: AbortSignal): Promise<Response> {
    return fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      agent: this.#agent,
      compress: true,
    });
  }
}

/** One request's abort wiring: caller signal, timeout and idle timer feed one controller. */
class Exchange {
  readonly #ac = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => this.#ac.abort(this.#outer!.reason);
  #timer: NodeJS.Timeout | undefined;
  #complete = false;

  constructor(options: SendOptions, timeoutMs: number) {
    this.#outer = options.signal;
    if (this.#outer) {
      if (this.#outer.aborted) this.#ac.abort(this.#outer.reason);
      else this.#outer.addEventListener('abort', this.#onOuterAbort, { once: true });
    }
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.#timer = setTimeout(() => this.#ac.abort(new TransportError(`request timed out after ${timeoutMs} ms`, undefined, { retryable: true, context: { timeoutMs } })), timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** Replaces the headers timeout with an idle timer restarted by every chunk. */
  idle(ms: number, what: string): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.#timer = setTimeout(() => this.#ac.abort(new TransportError(`${what}: stream idle for ${ms} ms`, undefined, { retryable: true, context: { idleTimeoutMs: ms } })), ms);
  }

  async send(fn: () => Promise<Response>, what: string): Promise<Response> {
    this.#ac.signal.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      throw this.#failure(err, what);
    }
  }

  async read<T>(fn: () => Promise<T>, what: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#failure(err, what);
    }
  }

  async *events(res: Response, what: string): AsyncGenerator<SseEvent> {
    try {
      for await (const e of decodeSse(this.#chunks(res, what))) yield e;
      this.#complete = true;
    } finally {
      this.cancel();
    }
  }

  /** Stopped early (break, error, never read): abort so the socket is freed, not left streaming. */
  cancel(): void {
    if (!this.#complete && !this.#ac.signal.aborted) this.#ac.abort(new CancelledError('stream closed by the consumer'));
    this.done();
  }

  async *#chunks(res: Response, what: string): AsyncGenerator<Uint8Array> {
    const body = res.body;
    if (body === null) return;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        this.#timer?.refresh();
        yield chunk;
      }
    } catch (err) {
      throw this.#failure(err, what);
    }
    // A body cut short by an abort can end without an error: report the abort, not a short stream.
    this.#ac.signal.throwIfAborted();
  }

  done(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
  }

  #failure(err: unknown, what: string): unknown {
    if (this.#ac.signal.aborted) return this.#ac.signal.reason;
    if (err instanceof TransportError) return err;
    return errorFromFailure(err, what);
  }
}

function parseJson(text: string, status: number, what: string, secrets: readonly string[] | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const preview = text === '' ? '(empty body)' : safePreview(text, secrets, 80);
    throw new TransportError(`${what} returned a body that is not JSON (HTTP ${status}): ${preview}`, status, { retryable: true, context: { status, bodyBytes: Buffer.byteLength(text) } });
  }
}

function countSockets(bySocketName: NodeJS.ReadOnlyDict<unknown[]>): number {
  let n = 0;
  for (const list of Object.values(bySocketName)) n += list?.length ?? 0;
  return n;
}

let shared: HttpTransport | undefined;

/** The transport of this thread (handlers share it, so keep-alive sockets are reused). */
export function sharedTransport(): HttpTransport {
  shared ??= new HttpTransport();
  return shared;
}
