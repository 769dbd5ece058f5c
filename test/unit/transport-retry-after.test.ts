import test from 'ava';
import { parseRetryAfter, parseRetryAfterValue } from '../../src/transport/retry-after.js';

const h = (o: Record<string, string>) => new Headers(o);
const NOW = Date.parse('2026-01-01T00:00:00Z');

test('parseRetryAfter() - delay-seconds, fractions allowed', (t) => {
  t.is(parseRetryAfter(h({ 'retry-after': '2' }), NOW), 2000);
  t.is(parseRetryAfter(h({ 'retry-after': ' 0.5 ' }), NOW), 500);
  t.is(parseRetryAfter(h({ 'retry-after': '0' }), NOW), 0);
});

test('parseRetryAfter() - retry-after-ms wins over retry-after', (t) => {
  t.is(parseRetryAfter(h({ 'retry-after-ms': '250', 'retry-after': '9' }), NOW), 250);
  t.is(parseRetryAfter(h({ 'retry-after-ms': '12.5' }), NOW), 12.5);
});

test('parseRetryAfter() - an unreadable retry-after-ms falls back to retry-after', (t) => {
  t.is(parseRetryAfter(h({ 'retry-after-ms': 'soon', 'retry-after': '3' }), NOW), 3000);
});

test('parseRetryAfter() - HTTP-date, relative to now; a past date means 0', (t) => {
  t.is(parseRetryAfter(h({ 'retry-after': new Date(NOW + 7000).toUTCString() }), NOW), 7000);
  t.is(parseRetryAfter(h({ 'retry-after': new Date(NOW - 7000).toUTCString() }), NOW), 0);
});

test('parseRetryAfter() - absent or garbage gives undefined', (t) => {
  t.is(parseRetryAfter(h({}), NOW), undefined);
  t.is(parseRetryAfterValue('soon', NOW), undefined);
  t.is(parseRetryAfterValue('-5', NOW), undefined);
});
