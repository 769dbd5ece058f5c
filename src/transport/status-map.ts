import { CallpoolError, RateLimitError, TransportError } from '../core/errors.js';
import type { HeaderReader } from './headers.js';
import { parseRetryAfter } from './retry-after.js';
import { safePreview } from './redact.js';

/** Network failures after which the same request may well succeed. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The typed error for a non-2xx response. 429 is a `RateLimitError` carrying the provider's
 * retry-after (ms); 408, 409 and 5xx are retryable `TransportError`s; other statuses are not.
 * `what` names the request (method and URL without query); `body` is previewed, secrets removed.
 */
export function errorFromStatus(status: number, headers: HeaderReader, body: string, what: string, secrets: readonly string[] = []): CallpoolError {
  const detail = errorDetail(body, secrets);
  const suffix = detail === '' ? '' : `: ${detail}`;
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(headers);
    const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.round(retryAfterMs)} ms)`;
    return new RateLimitError(`${what} was rate limited by the upstream (HTTP 429)${wait}${suffix}`, retryAfterMs, { context: { status } });
  }
  // 503 and Anthropic's 529 (overloaded) may carry retry-after: retry waits at least that long.
  const retryAfterMs = status >= 500 ? parseRetryAfter(headers) : undefined;
  const label = status === 529 ? ' (overloaded)' : '';
  return new TransportError(`${what} failed with HTTP ${status}${label}${suffix}`, status, { retryable: isRetryableStatus(status), retryAfterMs, context: { status } });
}

/** The provider's own error message when it sent one (`{error:{message}}`), else a preview. */
function errorDetail(body: string, secrets: readonly string[]): string {
  if (body === '') return '';
  try {
    const parsed: unknown = JSON.parse(body);
    const err = (parsed as { error?: unknown }).error;
    const msg = typeof err === 'string' ? err : (err as { message?: unknown } | undefined)?.message;
    if (typeof msg === 'string') return safePreview(msg, secrets);
  } catch {
    // not JSON: fall through to the raw preview
  }
  return safePreview(body, secrets);
}

/**
 * The typed error for a request that produced no response (reset, refused, premature close).
 * The original error is not kept as `cause`: it may hold the request and its headers.
 */
export function errorFromFailure(err: unknown, what: string): TransportError {
  const code = networkCode(err);
  const retryable = code === undefined || RETRYABLE_CODES.has(code) || /socket hang up|premature close/i.test(messageOf(err));
  const reason = code ?? (/socket hang up/i.test(messageOf(err)) ? 'socket hang up' : 'network failure');
  return new TransportError(`${what} failed: ${reason}`, undefined, { retryable, context: { reason } });
}

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown; errno?: unknown }).code ?? (e as { errno?: unknown }).errno;
    if (typeof code === 'string' && code !== 'FETCH_ERROR' && code !== 'system') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
