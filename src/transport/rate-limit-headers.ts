import type { ProviderLimits } from '../core/envelope.js';
import type { HeaderReader } from './headers.js';

/**
 * Reads `x-ratelimit-remaining-{requests,tokens}` and `x-ratelimit-reset-{requests,tokens}`
 * into `ProviderLimits`, or `undefined` when the response carries none of them.
 * Reset values may be durations (`1s`, `6m0s`, `250ms`, as OpenAI sends them), plain seconds,
 * or a date (RFC 3339 / HTTP-date).
 */
export function providerLimitsFromHeaders(headers: HeaderReader, nowEpochMs: number = Date.now()): ProviderLimits | undefined {
  const out: ProviderLimits = {};
  const rr = count(headers.get('x-ratelimit-remaining-requests'));
  const rt = count(headers.get('x-ratelimit-remaining-tokens'));
  const sr = resetMs(headers.get('x-ratelimit-reset-requests'), nowEpochMs);
  const st = resetMs(headers.get('x-ratelimit-reset-tokens'), nowEpochMs);
  if (rr !== undefined) out.remainingRequests = rr;
  if (rt !== undefined) out.remainingTokens = rt;
  if (sr !== undefined) out.resetRequestsMs = sr;
  if (st !== undefined) out.resetTokensMs = st;
  return rr === undefined && rt === undefined && sr === undefined && st === undefined ? undefined : out;
}

function count(v: string | null): number | undefined {
  if (v === null || !/^\s*\d+\s*$/.test(v)) return undefined;
  return Number(v);
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** A reset value in ms from now; `undefined` when it cannot be read. */
export function resetMs(v: string | null, nowEpochMs: number = Date.now()): number | undefined {
  if (v === null) return undefined;
  const t = v.trim();
  if (t === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const duration = parseDuration(t);
  if (duration !== undefined) return duration;
  const at = /[a-z]/i.test(t) ? Date.parse(t) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}

/** Go-style durations: `1h2m3.5s`, `250ms`, `20us`. */
export function parseDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === s.length && matched > 0 ? total : undefined;
}
