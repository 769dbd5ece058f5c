import { ConfigError } from '../core/errors.js';
import type { HttpRequest } from '../transport/http-transport.js';

export interface EndpointInput {
  baseURL: string;
  /** Joined to `baseURL` (a leading `/` does not drop the base's own path). */
  path: string;
  method?: string;
  apiKey?: string | undefined;
  /** Extra headers; they win over the defaults except `authorization`. */
  headers?: Record<string, string> | undefined;
  query?: Record<string, string | number | boolean> | undefined;
  /** Sent as JSON when given. */
  body?: unknown;
}

/**
 * Builds an HTTP request from plain data; pure (no I/O, no environment), so it is the same on
 * the main thread and in a worker and is tested without a server.
 */
export function buildRequest(input: EndpointInput): HttpRequest {
  const url = joinUrl(input.baseURL, input.path);
  if (input.query) for (const [k, v] of Object.entries(input.query)) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
  if (input.apiKey) headers['authorization'] = `Bearer ${input.apiKey}`;
  const req: HttpRequest = { method: (input.method ?? (input.body === undefined ? 'GET' : 'POST')).toUpperCase(), url: url.href, headers };
  if (input.body !== undefined) {
    headers['content-type'] = 'application/json';
    req.body = JSON.stringify(input.body);
  }
  return req;
}

/** `base` + `path`, keeping the base's path (`https://h/v1` + `/chat` -> `https://h/v1/chat`). */
export function joinUrl(base: string, path: string): URL {
  const root = parseUrl(base, 'baseURL');
  if (/^https?:\/\//i.test(path)) return parseUrl(path, 'path');
  const basePath = root.pathname.endsWith('/') ? root.pathname : `${root.pathname}/`;
  const rel = path.startsWith('/') ? path.slice(1) : path;
  const out = new URL(root.href);
  const q = rel.indexOf('?');
  out.pathname = basePath + (q === -1 ? rel : rel.slice(0, q));
  out.search = q === -1 ? root.search : rel.slice(q);
  return out;
}

/** The capability a request to `url` needs: `net.out:<host>` (host without port). */
export function netRight(url: string | URL): string {
  return `net.out:${(url instanceof URL ? url : parseUrl(url, 'url')).hostname}`;
}

function parseUrl(value: string, what: string): URL {
  try {
    const u = new URL(value);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('protocol');
    return u;
  } catch {
    // The value itself is not echoed: a URL may carry credentials.
    throw new ConfigError('endpoint', [{ path: `/${what}`, rule: 'format', message: 'must be an absolute http(s) URL' }]);
  }
}
