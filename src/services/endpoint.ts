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
  let href: string;
  if (input.query) {
    const url = joinUrl(input.baseURL, input.path);
    for (const [k, v] of Object.entries(input.query)) url.searchParams.set(k, String(v));
    href = url.href;
  } else {
    href = joinedHref(input.baseURL, input.path);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  if (input.headers !== undefined) for (const k in input.headers) headers[k.toLowerCase()] = input.headers[k]!;
  if (input.apiKey) headers['authorization'] = `Bearer ${input.apiKey}`;
  const req: HttpRequest = { method: (input.method ?? (input.body === undefined ? 'GET' : 'POST')).toUpperCase(), url: href, headers };
  if (input.body !== undefined) {
    headers['content-type'] = 'application/json';
    req.body = JSON.stringify(input.body);
  }
  return req;
}

// A service sends every call to the same few URLs: parsing them once per call showed in
// profiles. Keyed base -> path -> href, so a lookup builds no key string.
const hrefs = new Map<string, Map<string, string>>();
const MAX_BASES = 64;

function joinedHref(base: string, path: string): string {
  let byPath = hrefs.get(base);
  if (byPath === undefined) {
    if (hrefs.size >= MAX_BASES) hrefs.clear();
    hrefs.set(base, (byPath = new Map()));
  }
  let href = byPath.get(path);
  if (href === undefined) {
    href = joinUrl(base, path).href;
    if (byPath.size >= MAX_BASES) byPath.clear();
    byPath.set(path, href);
  }
  return href;
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
