import { TransportError } from '../core/errors.js';
import type { HeaderReader } from './headers.js';
import type { HttpRequest } from './http-transport.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a request to another origin. */
const CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization'];

export function isRedirect(status: number, headers: HeaderReader): boolean {
  return REDIRECT_STATUSES.has(status) && headers.get('location') !== null;
}

/**
 * The request to send after a redirect (the fetch standard's rules, the same on every wire): 303,
 * and 301/302 of a POST, become a GET without body; 307/308 repeat method and body; credentials
 * are dropped when the origin changes. Refused past `maxRedirects` or to a non-http(s) URL.
 */
export function followRedirect(req: HttpRequest, status: number, headers: HeaderReader, hops: number, maxRedirects: number, what: string): HttpRequest {
  if (hops >= maxRedirects) {
    const why = maxRedirects === 0 ? 'redirects are refused (maxRedirects: 0)' : `more than ${maxRedirects} redirects`;
    return refuse(`${what} was redirected (HTTP ${status}): ${why}`, status);
  }
  let to: URL;
  try {
    to = new URL(headers.get('location')!, req.url);
  } catch {
    return refuse(`${what} was redirected (HTTP ${status}) to an invalid URL`, status);
  }
  if (to.protocol !== 'http:' && to.protocol !== 'https:') return refuse(`${what} was redirected (HTTP ${status}) to a non-http(s) URL`, status);
  const next: HttpRequest = { method: req.method, url: to.href, headers: { ...req.headers }, body: req.body };
  if (status === 303 ? req.method !== 'HEAD' : (status === 301 || status === 302) && req.method === 'POST') {
    next.method = 'GET';
    next.body = undefined;
    delete next.headers['content-type'];
    delete next.headers['content-length'];
  }
  if (new URL(req.url).origin !== to.origin) for (const h of CREDENTIALS) delete next.headers[h];
  return next;
}

function refuse(message: string, status: number): never {
  throw new TransportError(message, status, { retryable: false, context: { status } });
}
