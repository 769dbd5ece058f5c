import type { ProviderLimits } from '../core/envelope.js';
import { checkHeaderArgs, type HeaderReader } from './headers.js';
import { resetMs } from './rate-limit-headers.js';

/**
 * Reads Anthropic's `anthropic-ratelimit-requests-{remaining,reset}` and
 * `anthropic-ratelimit-tokens-{remaining,reset}` (the most restrictive token limit in effect;
 * `anthropic-ratelimit-input-tokens-*` when that is absent) into `ProviderLimits`, or
 * `undefined` when the response carries none. Resets are RFC 3339 instants.
 */
export function anthropicLimitsFromHeaders(headers: HeaderReader, nowEpochMs: number = Date.now()): ProviderLimits | undefined {
  checkHeaderArgs(headers, nowEpochMs);
  const out: ProviderLimits = {};
  const tokenKind = headers.get('anthropic-ratelimit-tokens-remaining') !== null ? 'tokens' : 'input-tokens';
  const rr = count(headers.get('anthropic-ratelimit-requests-remaining'));
  const rt = count(headers.get(`anthropic-ratelimit-${tokenKind}-remaining`));
  const sr = resetMs(headers.get('anthropic-ratelimit-requests-reset'), nowEpochMs);
  const st = resetMs(headers.get(`anthropic-ratelimit-${tokenKind}-reset`), nowEpochMs);
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
