import test from 'ava';
import { anthropicLimitsFromHeaders } from '../../src/transport/anthropic-rate-limit-headers.js';
import { errorFromStatus } from '../../src/transport/status-map.js';
import { RateLimitError, TransportError } from '../../src/core/errors.js';

const headers = (h: Record<string, string>) => new Headers(h);
const NOW = Date.parse('2026-01-01T00:00:00Z');

test('anthropicLimitsFromHeaders - requests and tokens remaining, RFC 3339 resets as ms from now', (t) => {
  const out = anthropicLimitsFromHeaders(
    headers({
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:01.500Z',
      'anthropic-ratelimit-tokens-remaining': '39000',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:01:00Z',
      'anthropic-ratelimit-input-tokens-remaining': '1',
    }),
    NOW,
  );
  t.deepEqual(out, { remainingRequests: 49, remainingTokens: 39000, resetRequestsMs: 1500, resetTokensMs: 60_000 });
});

test('anthropicLimitsFromHeaders - input-tokens when the combined tokens headers are absent; none at all is undefined', (t) => {
  t.deepEqual(anthropicLimitsFromHeaders(headers({ 'anthropic-ratelimit-input-tokens-remaining': '12', 'anthropic-ratelimit-input-tokens-reset': '2026-01-01T00:00:02Z' }), NOW), { remainingTokens: 12, resetTokensMs: 2000 });
  t.is(anthropicLimitsFromHeaders(headers({ 'x-ratelimit-remaining-requests': '3' }), NOW), undefined);
  t.is(anthropicLimitsFromHeaders(headers({ 'anthropic-ratelimit-requests-remaining': 'many' }), NOW), undefined);
});

test('errorFromStatus - 529 is a retryable overloaded TransportError with its retry-after; 429 stays a RateLimitError', (t) => {
  const body = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  const e = errorFromStatus(529, headers({ 'retry-after': '3' }), body, 'POST http://h/v1/messages');
  t.true(e instanceof TransportError);
  t.like(e, { status: 529, retryable: true, retryAfterMs: 3000 });
  t.is(e.message, 'POST http://h/v1/messages failed with HTTP 529 (overloaded): Overloaded');
  t.is((errorFromStatus(503, headers({}), '', 'GET x') as TransportError).retryAfterMs, undefined);
  t.false('retryAfterMs' in errorFromStatus(400, headers({ 'retry-after': '3' }), '', 'GET x'));
  const r = errorFromStatus(429, headers({ 'retry-after': '2' }), body, 'POST x');
  t.true(r instanceof RateLimitError);
  t.is((r as RateLimitError).retryAfterMs, 2000);
});
