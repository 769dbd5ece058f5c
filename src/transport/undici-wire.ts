import { PassThrough, Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import type { Agent, Dispatcher } from 'undici';
import type { AbortHub } from '../core/abort-hub.js';
import { BodyTooLarge } from './exchange.js';
import type { HeaderReader } from './headers.js';
import type { HttpRequest, TransportOptions } from './http-transport.js';
import type { Wire, WireResponse } from './wire.js';

interface UndiciParts {
  Agent: typeof Agent;
  parseHeaders: (headers: Buffer[]) => Record<string, string | string[] | undefined>;
}
let loaded: UndiciParts | undefined;
/**
 * The two parts of undici the wire uses, loaded with the first wire (importing callpool does
 * not load it). Its index loads all of undici (fetch, WebSocket, caches, mocks): 186 ms of CPU
 * in each thread against 70 for these two modules, the same classes the index exports. undici
 * has no exports map, so the paths are reachable; the index is the fallback should a later
 * version move them.
 */
function undici(): UndiciParts {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  try {
    loaded = { Agent: require('undici/lib/dispatcher/agent.js') as typeof Agent, parseHeaders: (require('undici/lib/core/util.js') as UndiciParts).parseHeaders };
  } catch {
    const u = require('undici') as typeof import('undici');
    loaded = { Agent: u.Agent, parseHeaders: u.util.parseHeaders as UndiciParts['parseHeaders'] };
  }
  return loaded;
}

/** Chunks buffered for a stream consumer before undici is told to stop reading the socket. */
const HIGH_WATER_CHUNKS = 16;

/**
 * undici's dispatcher API: one `Agent` (a connection pool per origin, keep-alive, pipelining off
 * by default) and a handler object per request instead of `undici.request()`'s body stream, so a
 * JSON body is a list of Buffers joined once. The handler uses undici's own (v1) handler hooks,
 * which the dispatcher calls without a wrapper and which include `onRequestSent`, the instant
 * the request's bytes were written to the socket.
 */
export class UndiciWire implements Wire {
  readonly kind = 'undici' as const;
  readonly #agent: Agent;

  constructor(options: TransportOptions = {}) {
    const maxSockets = options.maxSockets ?? Infinity;
    this.#agent = new (undici().Agent)({
      connections: Number.isFinite(maxSockets) ? maxSockets : null,
      keepAliveTimeout: options.freeSocketTimeoutMs ?? 4000,
      // A server's own keep-alive hint may lengthen it up to this; never past our default.
      keepAliveMaxTimeout: options.freeSocketTimeoutMs ?? 4000,
      pipelining: options.pipelining ?? 1,
    });
  }

  send(req: HttpRequest, hub: AbortHub, onSent: (() => void) | undefined): Promise<WireResponse> {
    return new Promise<WireResponse>((resolve, reject) => {
      const handler = new ResponseHandler(hub, onSent, resolve, reject);
      const [origin, path] = splitUrl(req.url);
      this.#agent.dispatch({ origin, path, method: req.method as Dispatcher.HttpMethod, headers: req.headers, body: req.body ?? null }, handler as unknown as Dispatcher.DispatchHandler);
    });
  }

  sockets(): { active: number; idle: number } {
    let active = 0;
    let idle = 0;
    for (const s of Object.values(this.#agent.stats) as { connected: number; free: number }[]) {
      active += s.connected - s.free;
      idle += s.free;
    }
    return { active, idle };
  }

  close(): void {
    void this.#agent.destroy();
  }
}

/** `origin` and `path` of a normalised absolute URL (as `URL.href` gives it), without parsing it again. */
function splitUrl(href: string): [string, string] {
  const hash = href.indexOf('#');
  if (hash !== -1) href = href.slice(0, hash);
  const slash = href.indexOf('/', href.indexOf('//') + 2);
  const origin = slash === -1 ? href : href.slice(0, slash);
  if (origin.includes('@')) {
    // Credentials in the URL: let URL take them apart (undici does not send them either).
    const u = new URL(href);
    return [u.origin, u.pathname + u.search];
  }
  return [origin, slash === -1 ? '/' : href.slice(slash)];
}

/** Response headers from undici's raw list, parsed on first read. */
class RawHeaders implements HeaderReader {
  #raw: Buffer[] | null;
  #parsed: Record<string, string | string[] | undefined> | undefined;
  constructor(raw: Buffer[]) {
    this.#raw = raw;
  }
  get(name: string): string | null {
    if (this.#parsed === undefined) {
      this.#parsed = undici().parseHeaders(this.#raw!);
      this.#raw = null;
    }
    const v = this.#parsed[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
}

type Abort = (err?: Error) => void;

/** One request: undici's handler while it runs, then the response handed to the transport. */
class ResponseHandler implements WireResponse {
  status = 0;
  headers!: HeaderReader;
  readonly #hub: AbortHub;
  readonly #onSent: (() => void) | undefined;
  #resolve: ((res: WireResponse) => void) | undefined;
  #reject: ((err: unknown) => void) | undefined;
  #abort: Abort | undefined;
  #resume: (() => void) | undefined;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #ended = false;
  #error: unknown;
  /** Set while a reader waits for the next chunk, the end or an error. */
  #wake: (() => void) | undefined;
  #streaming = false;
  #paused = false;
  #maxBytes = Infinity;
  readonly #onAbort = () => this.#fail(this.#hub.reason, true);

  constructor(hub: AbortHub, onSent: (() => void) | undefined, resolve: (res: WireResponse) => void, reject: (err: unknown) => void) {
    this.#hub = hub;
    this.#onSent = onSent;
    this.#resolve = resolve;
    this.#reject = reject;
    hub.addEventListener('abort', this.#onAbort);
  }

  // --- undici's handler hooks ---

  onConnect(abort: Abort): void {
    if (this.#error !== undefined) abort(errorOf(this.#error));
    else this.#abort = abort;
  }

  onRequestSent(): void {
    this.#onSent?.();
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // An informational response (103 Early Hints) comes before the real one.
    if (status < 200) return true;
    this.status = status;
    this.headers = new RawHeaders(raw);
    this.#resume = resume;
    const resolve = this.#resolve!;
    this.#resolve = this.#reject = undefined;
    resolve(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) {
      this.#fail(new BodyTooLarge(this.#maxBytes), true);
      return false;
    }
    this.#chunks.push(chunk);
    this.#wakeReader();
    if (this.#streaming && this.#chunks.length >= HIGH_WATER_CHUNKS) {
      this.#paused = true;
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.#ended = true;
    this.#hub.removeEventListener('abort', this.#onAbort);
    this.#wakeReader();
  }

  onError(err: Error): void {
    this.#fail(this.#hub.aborted ? this.#hub.reason : err, false);
  }

  // --- the response, for the transport ---

  async text(maxBytes: number): Promise<string> {
    this.#maxBytes = maxBytes;
    if (this.#bytes > maxBytes) this.#fail(new BodyTooLarge(maxBytes), true);
    while (!this.#ended && this.#error === undefined) await new Promise<void>((r) => (this.#wake = r));
    if (this.#error !== undefined) throw this.#error;
    if (this.#bytes > maxBytes) throw new BodyTooLarge(maxBytes);
    const body = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#bytes);
    this.#chunks = [];
    const encoding = this.headers.get('content-encoding');
    return (encoding === null ? body : decompress(body, encoding, maxBytes)).toString('utf8');
  }

  chunks(): AsyncIterable<Uint8Array> {
    this.#streaming = true;
    const encoding = this.headers.get('content-encoding');
    const raw = this.#read();
    if (encoding === null || encoding === 'identity') return raw;
    const out = decompressor(encoding);
    // pipeline, not pipe: an error of the body (abort, reset) must reach the reader.
    pipeline(Readable.from(raw), out, () => {});
    return out as AsyncIterable<Buffer>;
  }

  discard(): void {
    this.#fail(new BodyTooLarge(this.#maxBytes), true);
  }

  async *#read(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.#chunks.length > 0) {
        const batch = this.#chunks;
        this.#chunks = [];
        if (this.#paused) {
          this.#paused = false;
          this.#resume!();
        }
        yield* batch;
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  /** Fails the request once: rejects the pending promise or wakes the body's reader. */
  #fail(err: unknown, abortSocket: boolean): void {
    if (this.#error !== undefined || this.#ended) return;
    this.#error = err ?? new Error('request aborted');
    this.#hub.removeEventListener('abort', this.#onAbort);
    if (abortSocket) this.#abort?.(errorOf(err));
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(err);
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

function errorOf(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** A compressed body the server sent although we did not ask (undici sends no accept-encoding). */
function decompress(body: Buffer, encoding: string, maxBytes: number): Buffer {
  const opts = { maxOutputLength: maxBytes };
  try {
    switch (encoding.trim().toLowerCase()) {
      case 'gzip':
      case 'x-gzip':
        return zlib.gunzipSync(body, { ...opts, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      case 'deflate':
        return zlib.inflateSync(body, opts);
      case 'br':
        return zlib.brotliDecompressSync(body, opts);
      default:
        return body;
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLarge(maxBytes);
    throw err;
  }
}

function decompressor(encoding: string): NodeJS.ReadWriteStream {
  switch (encoding.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return new PassThrough();
  }
}
