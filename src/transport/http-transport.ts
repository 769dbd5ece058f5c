import type { HeaderReader } from './headers.js';
import type { SseEvent } from './sse.js';

/**
 * The transport contract every HTTP service is written against (OpenAI-compatible, JSON, and any
 * service added on top, such as Anthropic). Stable: add optional fields, never change these.
 */
export interface HttpTransport {
  /** `'undici'` (the default) or `'node-fetch'`. */
  readonly kind: TransportKind;
  /** Sends a request and parses the JSON response body (204: `null`). A non-2xx status rejects with its typed error. */
  json(req: HttpRequest, options?: SendOptions): Promise<JsonResponse>;
  /**
   * Sends a request whose response is an SSE stream. Resolves once the headers are in (a non-2xx
   * status rejects with its typed error); the events then arrive with an idle timeout between
   * chunks, separate from the headers timeout and from the caller's deadline.
   */
  sse(req: HttpRequest, options?: SendOptions): Promise<SseResponse>;
  /** Open sockets (in use and idle): for tests and leak checks. */
  sockets(): { active: number; idle: number };
  /** Destroys every socket; requests still running fail. */
  close(): void;
}

export type TransportKind = 'undici' | 'node-fetch';

/** One HTTP request, fully built (see `src/services/endpoint.ts`). Header names in lower case. */
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
  /**
   * Redirects followed before a 3xx is an error. 0 refuses every redirect (an API that redirects a
   * POST with a key in it is misconfigured, and following would resend the key). @default 0
   */
  maxRedirects?: number | undefined;
  /** A body (JSON) or a whole stream (SSE) larger than this, decoded, fails. @default 64 MiB */
  maxResponseBytes?: number | undefined;
  /**
   * Called once when the request has been handed to the socket (undici: the request's bytes were
   * written; node-fetch: the request's 'finish', its bytes flushed to the socket). Not called for
   * a request that never left (aborted before, connection refused). Do not rely on its `this`.
   */
  onSent?: (() => void) | undefined;
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
  /** undici only: requests in flight on one socket (HTTP/1.1 pipelining). @default 1 (off) */
  pipelining?: number;
}

