import { CancelledError, TransportError } from '../core/errors.js';
import { AbortHub } from '../core/abort-hub.js';
import { startTimer, type RestartableTimer } from './coarse-timer.js';
import type { HttpRequest, SendOptions } from './http-transport.js';
import { describeUrl } from './redact.js';
import { decodeSse, type SseEvent } from './sse.js';
import { errorFromFailure } from './status-map.js';

/** One request's abort wiring: caller signal, timeout and idle timer feed one hub. */
export class Exchange {
  readonly hub = new AbortHub();
  readonly #req: HttpRequest;
  readonly #outer: AbortSignal | undefined;
  readonly #onOuterAbort = () => this.hub.abort(this.#outer!.reason);
  #timer: RestartableTimer | undefined;
  #complete = false;
  #what: string | undefined;

  constructor(req: HttpRequest, options: SendOptions, timeoutMs: number) {
    this.#req = req;
    this.#outer = options.signal;
    if (this.#outer) {
      if (this.#outer.aborted) this.hub.abort(this.#outer.reason);
      // Not `once`: Node wraps such a listener per call, and done() removes it anyway.
      else this.#outer.addEventListener('abort', this.#onOuterAbort);
    }
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
      this.#timer = startTimer(timeoutMs, () => this.hub.abort(new TransportError(`request timed out after ${timeoutMs} ms`, undefined, { retryable: true, context: { timeoutMs } })));
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
    this.#timer = startTimer(ms, () => this.hub.abort(new TransportError(`${this.what}: stream idle for ${ms} ms`, undefined, { retryable: true, context: { idleTimeoutMs: ms } })));
  }

  /** The SSE events of a body; the whole stream may not exceed `maxBytes`. */
  async *events(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<SseEvent> {
    try {
      for await (const e of decodeSse(this.#chunks(body, maxBytes), Math.min(maxBytes, 16 * 1024 * 1024))) yield e;
      this.#complete = true;
    } finally {
      this.cancel();
    }
  }

  /** Stopped early (break, error, never read): abort so the socket is freed, not left streaming. */
  cancel(): void {
    if (!this.#complete) this.hub.abort(new CancelledError('stream closed by the consumer'));
    this.done();
  }

  async *#chunks(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
    let bytes = 0;
    try {
      for await (const chunk of body) {
        this.#timer?.refresh();
        bytes += chunk.byteLength;
        if (bytes > maxBytes) throw tooLarge(this.what, maxBytes, undefined);
        yield chunk;
      }
    } catch (err) {
      throw this.failure(err);
    }
    // A body cut short by an abort can end without an error: report the abort, not a short stream.
    this.hub.throwIfAborted();
  }

  done(): void {
    this.#timer?.clear();
    this.#timer = undefined;
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
  }

  /** The error to throw for a failure: the abort's reason if aborted, else a typed transport error. */
  failure(err: unknown): unknown {
    if (this.hub.aborted) return this.hub.reason;
    if (err instanceof TransportError) return err;
    return errorFromFailure(err, this.what);
  }
}

/** The error for a body over the size limit (not retryable: the same request gets the same body). */
export function tooLarge(what: string, maxBytes: number, status: number | undefined): TransportError {
  return new TransportError(`${what}: response body larger than ${maxBytes} bytes`, status, { retryable: false, context: { maxResponseBytes: maxBytes } });
}

/** Thrown by a wire's `text()` past its limit; `WireTransport` names the request. */
export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`body larger than ${maxBytes} bytes`);
  }
}
