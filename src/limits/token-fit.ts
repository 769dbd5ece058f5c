import { RateLimitError } from '../core/errors.js';
import type { RateWindow } from '../core/schemas.js';

/** Throws a non-retryable RateLimitError when `tokens` exceed a whole token window: such a call could never be admitted. */
export function assertTokensFit(tokens: number, windows: readonly RateWindow[]): void {
  for (const w of windows) {
    if (tokens > w.limit) {
      throw new RateLimitError(
        `estimated ${tokens} tokens exceed the token limit of ${w.limit} per ${w.windowMs} ms; the call can never be admitted`,
        undefined,
        { retryable: false, context: { tokens, limit: w.limit, windowMs: w.windowMs } },
      );
    }
  }
}
