import test from 'ava';
import { parseDuration, providerLimitsFromHeaders, resetMs } from '../../src/transport/rate-limit-headers.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

test('providerLimitsFromHeaders() - OpenAI headers become ProviderLimits', (t) => {
  const headers = new Headers({
    'x-ratelimit-remaining-requests': '59',
    'x-ratelimit-remaining-tokens': '149984',
    'x-ratelimit-reset-requests': '1s',
    'x-ratelimit-reset-tokens': '6m0s',
  });
  t.deepEqual(providerLimitsFromHeaders(headers, NOW), { remainingRequests: 59, remainingTokens: 149984, resetRequestsMs: 1000, resetTokensMs: 360_000 });
});

test('providerLimitsFromHeaders() - none of the headers gives undefined; partial sets are kept', (t) => {
  t.is(providerLimitsFromHeaders(new Headers({ 'content-type': 'application/json' }), NOW), undefined);
  t.deepEqual(providerLimitsFromHeaders(new Headers({ 'x-ratelimit-remaining-requests': '3' }), NOW), { remainingRequests: 3 });
  t.is(providerLimitsFromHeaders(new Headers({ 'x-ratelimit-remaining-requests': 'lots' }), NOW), undefined);
});

test('parseDuration() - Go-style durations', (t) => {
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration('1.5s'), 1500);
  t.is(parseDuration('1h2m3s'), 3_723_000);
  t.is(parseDuration('20us'), 0.02);
  t.is(parseDuration('6m0s'), 360_000);
  t.is(parseDuration('5 minutes'), undefined);
  t.is(parseDuration(''), undefined);
});

test('resetMs() - seconds, durations and dates', (t) => {
  t.is(resetMs('2', NOW), 2000);
  t.is(resetMs('2.5', NOW), 2500);
  t.is(resetMs('17ms', NOW), 17);
  t.is(resetMs(new Date(NOW + 4000).toISOString(), NOW), 4000);
  t.is(resetMs('never', NOW), undefined);
  t.is(resetMs(null, NOW), undefined);
});

test('providerLimitsFromHeaders() - announced limits, and full precision of the reset', (t) => {
  const headers = new Headers({
    'x-ratelimit-limit-requests': '5',
    'x-ratelimit-remaining-requests': '4',
    'x-ratelimit-reset-requests': '1.999873s',
  });
  t.deepEqual(providerLimitsFromHeaders(headers, NOW), { limitRequests: 5, remainingRequests: 4, resetRequestsMs: 1999.873 });
});

test('providerLimitsFromHeaders() - Anthropic headers: RFC 3339 resets to the millisecond, input tokens when tokens is absent', (t) => {
  const headers = new Headers({
    'anthropic-ratelimit-requests-limit': '50',
    'anthropic-ratelimit-requests-remaining': '49',
    'anthropic-ratelimit-requests-reset': new Date(NOW + 1234.5).toISOString(),
    'anthropic-ratelimit-input-tokens-limit': '40000',
    'anthropic-ratelimit-input-tokens-remaining': '39000',
    'anthropic-ratelimit-input-tokens-reset': '2026-01-01T00:00:01.5Z',
  });
  t.deepEqual(providerLimitsFromHeaders(headers, NOW), {
    limitRequests: 50,
    remainingRequests: 49,
    resetRequestsMs: 1234, // toISOString keeps whole milliseconds
    limitTokens: 40000,
    remainingTokens: 39000,
    resetTokensMs: 1500,
  });
});
