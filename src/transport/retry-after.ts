import { checkHeaderArgs, type HeaderReader } from './headers.js';

/**
 * How long a provider asks us to wait, in ms, or `undefined` when it does not say.
 * `retry-after-ms` (OpenAI, Azure) wins over `retry-after`, which is either delay-seconds
 * (fractions allowed) or an HTTP-date. A date in the past means "now" (0).
 */
export function parseRetryAfter(headers: HeaderReader, nowEpochMs: number = Date.now()): number | undefined {
  checkHeaderArgs(headers, nowEpochMs);
  const ms = headers.get('retry-after-ms');
  if (ms !== null) {
    const v = parseNumber(ms);
    if (v !== undefined) return v;
  }
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  return parseRetryAfterValue(value, nowEpochMs);
}

/** One `retry-after` value: delay-seconds or an HTTP-date. */
export function parseRetryAfterValue(value: string, nowEpochMs: number = Date.now()): number | undefined {
  const seconds = parseNumber(value);
  if (seconds !== undefined) return seconds * 1000;
  // Date.parse reads bare numbers ('-5') as years: a date must have a month or day name.
  const at = /[a-z]/i.test(value) ? Date.parse(value.trim()) : NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowEpochMs);
}

function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) return undefined;
  return Number(t);
}
