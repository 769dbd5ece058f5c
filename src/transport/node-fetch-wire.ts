import http from 'node:http';
import https from 'node:https';
import type { Response } from 'node-fetch';
import type { AbortHub } from '../core/abort-hub.js';
import { BodyTooLarge } from './exchange.js';
import type { HttpRequest, TransportOptions } from './http-transport.js';
import type { Wire, WireResponse } from './wire.js';

type Fetch = typeof import('node-fetch').default;
// Loaded on first use: a process on the default transport never loads node-fetch.
let loaded: Promise<Fetch> | undefined;

/**
 * An http.Agent that reports when a request's bytes have been flushed to its socket. node-fetch
 * does not expose its ClientRequest; it asks for the agent synchronously right before creating
 * the request, which then calls `addRequest` synchronously, so the callback parked by `agentFor`
 * is the one of the request being added.
 */
function reportingAgent(base: typeof http.Agent) {
  return class extends base {
    onSent: (() => void) | undefined;
    addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
      const onSent = this.onSent;
      this.onSent = undefined;
      // 'finish': the request has been written out (flushed to the socket), the closest node:http says.
      if (onSent !== undefined) req.once('finish', onSent);
      (http.Agent.prototype as unknown as { addRequest(r: http.ClientRequest, o: http.RequestOptions): void }).addRequest.call(this, req, options);
    }
  };
}
const ReportingHttpAgent = reportingAgent(http.Agent);
const ReportingHttpsAgent = reportingAgent(https.Agent as unknown as typeof http.Agent);

/** node-fetch 3 with keep-alive agents (one for http, one for https); redirects handled above it. */
export class NodeFetchWire implements Wire {
  readonly kind = 'node-fetch' as const;
  readonly #http: InstanceType<typeof ReportingHttpAgent>;
  readonly #https: InstanceType<typeof ReportingHttpsAgent>;
  readonly #agent = (url: URL): http.Agent => (url.protocol === 'https:' ? this.#https : this.#http);

  constructor(options: TransportOptions = {}) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? Infinity,
      scheduling: 'lifo' as const,
      timeout: options.freeSocketTimeoutMs ?? 4000,
    };
    this.#http = new ReportingHttpAgent(agentOptions);
    this.#https = new ReportingHttpsAgent(agentOptions);
  }

  async send(req: HttpRequest, hub: AbortHub, onSent: (() => void) | undefined): Promise<WireResponse> {
    const fetch = await (loaded ??= import('node-fetch').then((m) => m.default));
    hub.throwIfAborted();
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      // node-fetch accepts any object tagged 'AbortSignal' (see AbortHub).
      signal: hub as unknown as AbortSignal,
      agent: onSent === undefined ? this.#agent : (url) => this.#reporting(url, onSent),
      compress: true,
      redirect: 'manual',
    });
    return new FetchResponse(res);
  }

  #reporting(url: URL, onSent: () => void): http.Agent {
    const agent = url.protocol === 'https:' ? this.#https : this.#http;
    agent.onSent = onSent;
    return agent;
  }

  sockets(): { active: number; idle: number } {
    return { active: countSockets(this.#http.sockets) + countSockets(this.#https.sockets), idle: countSockets(this.#http.freeSockets) + countSockets(this.#https.freeSockets) };
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

class FetchResponse implements WireResponse {
  readonly status: number;
  readonly headers: Response['headers'];
  readonly #res: Response;

  constructor(res: Response) {
    this.#res = res;
    this.status = res.status;
    this.headers = res.headers;
  }

  async text(maxBytes: number): Promise<string> {
    const body = this.#res.body;
    if (body === null) return '';
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        this.discard();
        throw new BodyTooLarge(maxBytes);
      }
      chunks.push(chunk);
    }
    return (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes)).toString('utf8');
  }

  chunks(): AsyncIterable<Uint8Array> {
    return (this.#res.body ?? []) as AsyncIterable<Uint8Array>;
  }

  discard(): void {
    (this.#res.body as { destroy?: () => void } | null)?.destroy?.();
  }
}

function countSockets(bySocketName: NodeJS.ReadOnlyDict<unknown[]>): number {
  let n = 0;
  for (const list of Object.values(bySocketName)) n += list?.length ?? 0;
  return n;
}
