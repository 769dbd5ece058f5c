import http from 'node:http';
import https from 'node:https';
import fetch, { type Response } from 'node-fetch';
import { CancelledError, TransportError } from '../core/errors.js';
import type { HeaderReader } from './headers.js';
import { startTimer, type RestartableTimer } from './coarse-timer.js';
import { FetchSignal } from './fetch-signal.js';
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
  /**
   * JSON: the whole exchange; streams: until the response headers. Timeouts of 1 s or more
   * fire up to 1 s late (see `coarse-timer.ts`), shorter ones on time. @default 60_000
   */
  timeoutMs?: number | undefined;
  /** Streams: longest silence allowed between two chunks (same precision). @default 30_000 */
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
    const call = new Exchange(req, options, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      let res: Response;
      let text: string;
      try {
        call.signal.throwIfAborted();
        res = await this.#fetch(req, call.signal);
        text = await res.text();
      } catch (err) {
        throw call.failure(err);
      }
      if (res.status < 200 || res.status > 299) throw errorFromStatus(res.status, res.headers, text, call.what, options.secrets);
      return { status: res.status, headers: res.headers, body: res.status === 204 ? null : parseJson(text, res.status, call, options.secrets) };
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
    const call = new Exchange(req, options, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let handedOver = false;
    try {
      let res: Response;
      try {
        call.signal.throwIfAborted();
        res = await this.#fetch(req, call.signal);
      } catch (err) {
        throw call.failure(err);
      }
      if (res.status < 200 || res.status > 299) {
        let text: string;
        try {
          text = await res.text();
        } catch (err) {
          throw call.failure(err);
        }
        throw errorFromStatus(res.status, res.headers, text, call.what, options.secrets);
      }
      call.idle(options.idleTimeoutMs ?? DEFAULT_IDLE_MS);
      handedOver = true;
      return { status: res.status, headers: res.headers, events: call.events(res), close: () => call.cancel() };
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

  #fetch(req: HttpRequest, signal: FetchSignal): Promise<Response> {
    return fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      // node-fetch accepts any object tagged 'AbortSignal' (see FetchSignal).
      signal: signal as unknown as AbortSignal,
      agent: this.#agent,
      compress: true,
    });
  }
}

/** One request's abort wiring: caller signal, timeout and idle timer feed one signal. */
class Exchange {
  readonly signal = new FetchSignal();
  readonly #req: HttpRequest;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => this.signal.abort(this.#outer!.reason);
  #timer: RestartableTimer | undefined;
  #complete = false;
  #what: string | undefined;

  constructor(req: HttpRequest, options: SendOptions, timeoutMs: number) {
    this.#req = req;
    this.#outer = options.signal;
    if (this.#outer) {
      if (this.#outer.aborted) this.signal.abort(this.#outer.reason);
      // Not `once`: Node wraps such a listener per call, and done() removes it anyway.
      else this.#outer.addEventListener('abort', this.#onOuterAbort);
    }
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.#timer = startTimer(timeoutMs, () => this.signal.abort(new TransportError(`request timed out after ${timeoutMs} ms`, undefined, { retryable: true, context: { timeoutMs } })));
    }
  }

  /** Method and URL without query or credentials, for messages; built only when one is needed. */
  get what(): string {
    return (this.#what ??= `${this.#req.method} ${describeUrl(this.#req.url)}`);
  }

  /** Replaces the headers timeout with an idle timer restarted by every chunk. */
  idle(ms: number): void {
    this.#timer?.clear();
    this.#timer = undefined;
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.#timer = startTimer(ms, () => this.signal.abort(new TransportError(`${this.what}: stream idle for ${ms} ms`, undefined, { retryable: true, context: { idleTimeoutMs: ms } })));
  }

  async *events(res: Response): AsyncGenerator<SseEvent> {
    try {
      for await (const e of decodeSse(this.#chunks(res))) yield e;
      this.#complete = true;
    } finally {
      this.cancel();
    }
  }

  /** Stopped early (break, error, never read): abort so the socket is freed, not left streaming. */
  cancel(): void {
    if (!this.#complete) this.signal.abort(new CancelledError('stream closed by the consumer'));
    this.done();
  }

  async *#chunks(res: Response): AsyncGenerator<Uint8Array> {
    const body = res.body;
    if (body === null) return;
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        this.#timer?.refresh();
        yield chunk;
      }
    } catch (err) {
      throw this.failure(err);
    }
    // A body cut short by an abort can end without an error: report the abort, not a short stream.
    this.signal.throwIfAborted();
  }

  done(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
  }

  /** The error to throw for a failure: the abort's reason if aborted, else a typed transport error. */
  failure(err: unknown): unknown {
    if (this.signal.aborted) return this.signal.reason;
    if (err instanceof TransportError) return err;
    return errorFromFailure(err, this.what);
  }
}

function parseJson(text: string, status: number, call: Exchange, secrets: readonly string[] | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const preview = text === '' ? '(empty body)' : safePreview(text, secrets, 80);
    throw new TransportError(`${call.what} returned a body that is not JSON (HTTP ${status}): ${preview}`, status, { retryable: true, context: { status, bodyBytes: Buffer.byteLength(text) } });
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
