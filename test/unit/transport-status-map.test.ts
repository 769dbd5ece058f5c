import test from 'ava';
import { RateLimitError, TransportError, serializeError } from '../../src/core/errors.js';
import { errorFromFailure, errorFromStatus, isRetryableStatus } from '../../src/transport/status-map.js';
import { describeUrl, safePreview } from '../../src/transport/redact.js';

const none = new Headers();
const WHAT = 'POST http://127.0.0.1/v1/chat/completions';

test('errorFromStatus() - 429 is a retryable RateLimitError with the retry-after in ms', (t) => {
  const err = errorFromStatus(429, new Headers({ 'retry-after': '3' }), '{"error":{"message":"slow down"}}', WHAT);
  t.true(err instanceof RateLimitError);
  t.is(err.code, 'E_RATE_LIMITED');
  t.is((err as RateLimitError).retryAfterMs, 3000);
  t.true(err.retryable);
  t.regex(err.message, /slow down/);
});

test('errorFromStatus() - 429 without retry-after still a RateLimitError, no wait known', (t) => {
  const err = errorFromStatus(429, none, '', WHAT) as RateLimitError;
  t.true(err instanceof RateLimitError);
  t.is(err.retryAfterMs, undefined);
});

test('errorFromStatus() - 408, 409 and 5xx are retryable TransportErrors', (t) => {
  for (const status of [408, 409, 500, 502, 503, 504]) {
    const err = errorFromStatus(status, none, 'oops', WHAT);
    t.true(err instanceof TransportError, String(status));
    t.is((err as TransportError).status, status);
    t.true(err.retryable, String(status));
    t.true(isRetryableStatus(status));
  }
});

test('errorFromStatus() - other 4xx are not retryable', (t) => {
  for (const status of [400, 401, 403, 404, 422]) {
    const err = errorFromStatus(status, none, '{"error":{"message":"bad"}}', WHAT);
    t.true(err instanceof TransportError);
    t.false(err.retryable, String(status));
  }
});

test('errorFromStatus() - the body preview is short and never shows a key', (t) => {
  const key = 'sk-proj-SECRETSECRETSECRET';
  const body = JSON.stringify({ error: { message: `Incorrect API key provided: ${key}. Authorization: Bearer ${key}` } });
  const err = errorFromStatus(401, none, body, WHAT, [key]);
  t.false(JSON.stringify(serializeError(err)).includes('SECRETSECRET'));
  t.false(err.stack!.includes('SECRETSECRET'));
  const long = errorFromStatus(500, none, 'x'.repeat(100_000), WHAT);
  t.true(long.message.length < 400);
});

test('safePreview() - masks bearer tokens and sk- keys even when not told about them', (t) => {
  const out = safePreview('auth: Bearer abc.def-ghi and key sk-live_123456789 end');
  t.false(out.includes('abc.def-ghi'));
  t.false(out.includes('123456789'));
});

test('describeUrl() - drops query and credentials', (t) => {
  t.is(describeUrl('https://user:pw@api.example.com/v1/x?api-key=SECRET'), 'https://api.example.com/v1/x');
});

test('errorFromFailure() - connection resets are retryable TransportErrors', (t) => {
  const reset = Object.assign(new Error('request to http://x failed, reason: read ECONNRESET'), { code: 'ECONNRESET', type: 'system' });
  const err = errorFromFailure(reset, WHAT);
  t.true(err instanceof TransportError);
  t.true(err.retryable);
  t.regex(err.message, /ECONNRESET/);
  t.is(err.cause, undefined);
  t.true(errorFromFailure(new Error('socket hang up'), WHAT).retryable);
  t.false(errorFromFailure(Object.assign(new Error('bad cert'), { code: 'CERT_HAS_EXPIRED' }), WHAT).retryable);
});
