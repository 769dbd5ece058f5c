/** The backoff numbers of `RetryOptions` (ranges and defaults in options.ts). */
export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): the delay before retry `n` (1-based) is uniform in
 * `[0, min(maxDelayMs, baseDelayMs * factor^(n-1))]`, which spreads retries of many callers.
 * `random` returns a number in [0, 1).
 */
export function fullJitterDelay(retry: number, options: BackoffOptions, random: () => number): number {
  const bound = Math.min(options.maxDelayMs, options.baseDelayMs * Math.pow(options.factor, Math.max(0, retry - 1)));
  return Math.max(0, Math.min(bound, random() * bound));
}
