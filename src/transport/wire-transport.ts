import { TransportError } from '../core/errors.js';
import { BodyTooLarge, Exchange, tooLarge } from './exchange.js';
import { DEFAULT_IDLE_MS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from './defaults.js';
import type { HttpRequest, HttpTransport, JsonResponse, SendOptions, SseResponse, TransportKind } from './http-transport.js';
import { followRedirect, isRedirect } from './redirect.js';
import { safePreview } from './redact.js';
import { errorFromStatus } from './status-map.js';
import type { Wire, WireResponse } from './wire.js';

/** Error bodies are read this far for their message; past it the status alone is reported. */
const ERROR_BODY_BYTES = 64 * 1024;
/** A redirect's own body is read (so the socket is reused) up to this much. */
const REDIRECT_BODY_BYTES = 16 * 1024;

/**
 * An `HttpTransport` over a `Wire`: timeouts, the idle timeout, aborts, redirects, size limits, SSE
 * decoding and status -> error mapping live here once, so every wire behaves the same. Every
 * failure becomes a typed error whose message names the method and the URL without its query;
 * no header value is ever put in an error. A 2xx JSON body that does not parse is a
 * `TransportError` with a preview.
 */
export class WireTransport implements HttpTransport {
  readonly #wire: Wire;

  constructor(wire: Wire) {
    this.#wire = wire;
  }

  get kind(): TransportKind {
    return this.#wire.kind;
  }

  async json(req: HttpRequest, options: SendOptions = {}): Promise<JsonResponse> {
    const call = new Exchange(req, options, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      const res = await this.#open(req, options, call);
      if (res.status < 200 || res.status > 299) throw await this.#statusError(res, call, options);
      const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
      let text: string;
      try {
        text = await readText(res, max);
      } catch (err) {
        throw err instanceof BodyTooLarge ? tooLarge(call.what, max, res.status) : call.failure(err);
      }
      return { status: res.status, headers: res.headers, body: res.status === 204 ? null : parseJson(text, res.status, call, options.secrets) };
    } finally {
      call.done();
    }
  }

  async sse(req: HttpRequest, options: SendOptions = {}): Promise<SseResponse> {
    const call = new Exchange(req, options, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let handedOver = false;
    try {
      const res = await this.#open(req, options, call);
      if (res.status < 200 || res.status > 299) throw await this.#statusError(res, call, options);
      call.idle(options.idleTimeoutMs ?? DEFAULT_IDLE_MS);
      handedOver = true;
      const events = call.events(res.chunks(), options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
      return { status: res.status, headers: res.headers, events, close: () => call.cancel() };
    } finally {
      if (!handedOver) call.done();
    }
  }

  sockets(): { active: number; idle: number } {
    return this.#wire.sockets();
  }

  close(): void {
    this.#wire.close();
  }

  /** Sends the request and follows redirects as allowed; `onSent` is reported for the first hop only. */
  async #open(req: HttpRequest, options: SendOptions, call: Exchange): Promise<WireResponse> {
    let current = req;
    let onSent = options.onSent;
    for (let hops = 0; ; hops++) {
      let res: WireResponse;
      try {
        call.hub.throwIfAborted();
        res = await this.#wire.send(current, call.hub, onSent);
      } catch (err) {
        throw call.failure(err);
      }
      if (!isRedirect(res.status, res.headers)) return res;
      onSent = undefined;
      const next = followRedirect(current, res.status, res.headers, hops, options.maxRedirects ?? 0, call.what);
      try {
        await readText(res, REDIRECT_BODY_BYTES);
      } catch (err) {
        if (!(err instanceof BodyTooLarge)) throw call.failure(err);
      }
      current = next;
    }
  }

  async #statusError(res: WireResponse, call: Exchange, options: SendOptions): Promise<Error> {
    let text = '';
    try {
      text = await readText(res, ERROR_BODY_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) return call.failure(err) as Error;
    }
    return errorFromStatus(res.status, res.headers, text, call.what, options.secrets);
  }
}

/** The body as text; a declared length over the limit fails before anything is read. */
function readText(res: WireResponse, max: number): Promise<string> {
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > max && res.headers.get('content-encoding') === null) {
    res.discard();
    return Promise.reject(new BodyTooLarge(max));
  }
  return res.text(max);
}

function parseJson(text: string, status: number, call: Exchange, secrets: readonly string[] | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const preview = text === '' ? '(empty body)' : safePreview(text, secrets, 80);
    throw new TransportError(`${call.what} returned a body that is not JSON (HTTP ${status}): ${preview}`, status, { retryable: true, context: { status, bodyBytes: Buffer.byteLength(text) } });
  }
}
