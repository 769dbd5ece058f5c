import type { AbortHub } from '../core/abort-hub.js';
import type { HeaderReader } from './headers.js';
import type { HttpRequest, TransportKind } from './http-transport.js';

/**
 * What a client library has to provide under `WireTransport`: one request out, the status and
 * headers back, then the body either whole or as chunks. Everything users can observe (timeouts,
 * redirects, size limits, SSE, errors) is decided above it, once for every wire.
 */
export interface Wire {
  readonly kind: TransportKind;
  /**
   * Sends `req`; resolves at the response headers. Rejects with whatever the library threw (the
   * caller maps it); an abort of `hub` must make it (or the body) settle promptly.
   */
  send(req: HttpRequest, hub: AbortHub, onSent: (() => void) | undefined): Promise<WireResponse>;
  sockets(): { active: number; idle: number };
  close(): void;
}

export interface WireResponse {
  status: number;
  headers: HeaderReader;
  /** The decoded body (decompressed when the server compressed it); rejects with `BodyTooLarge` past `maxBytes`
   * (after discarding the rest). */
  text(maxBytes: number): Promise<string>;
  /** The decoded body as it arrives, with backpressure. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Gives up on the body: the request is aborted (its socket closed) unless it has already ended. */
  discard(): void;
}
