import type { ProviderLimits } from '../core/envelope.js';
import { checkHeaderArgs, type HeaderReader } from './headers.js';

/**
 * Reads a provider's rate-limit headers into `ProviderLimits`, or `undefined` when the
 * response carries none of them:
 * - OpenAI style: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; reset values may be
 *   durations (`1s`, `6m0s`, `250ms`, `1.234s`, as OpenAI sends them), plain seconds, or a date;
 * - Anthropic style: `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` (reset an
 *   RFC 3339 instant; `input-tokens` stands in when `tokens` is absent).
 * Every value is kept at full precision (fractions of a second, of a millisecond).
 */
export function providerLimitsFromHeaders(headers: HeaderReader, nowEpochMs: number = Date.now()): ProviderLimits | undefined {
  checkHeaderArgs(headers, nowEpochMs);
  const out: ProviderLimits = {};
  const h = (openai: string, anthropic: string, fallback?: string) =>
    headers.get(openai) ?? headers.get(anthropic) ?? (fallback === undefined ? null : headers.get(fallback));
  const rr = count(h('x-ratelimit-remaining-requests', 'anthropic-ratelimit-requests-remaining'));
  const rt = count(h('x-ratelimit-remaining-tokens', 'anthropic-ratelimit-tokens-remaining', 'anthropic-ratelimit-input-tokens-remaining'));
  const sr = resetMs(h('x-ratelimit-reset-requests', 'anthropic-ratelimit-requests-reset'), nowEpochMs);
  const st = resetMs(h('x-ratelimit-reset-tokens', 'anthropic-ratelimit-tokens-reset', 'anthropic-ratelimit-input-tokens-reset'), nowEpochMs);
  const lr = count(h('x-ratelimit-limit-requests', 'anthropic-ratelimit-requests-limit'));
  const lt = count(h('x-ratelimit-limit-tokens', 'anthropic-ratelimit-tokens-limit', 'anthropic-ratelimit-input-tokens-limit'));
  if (rr !== undefined) out.remainingRequests = rr;
  if (rt !== undefined) out.remainingTokens = rt;
  if (sr !== undefined) out.resetRequestsMs = sr;
  if (st !== undefined) out.resetTokensMs = st;
  if (lr !== undefined) out.limitRequests = lr;
  if (lt !== undefined) out.limitTokens = lt;
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
