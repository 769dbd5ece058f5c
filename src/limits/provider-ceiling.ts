import type { ProviderLimits } from './types.js';

interface Ceiling {
  remaining: number;
  until: number;
}

/**
 * What the provider's rate-limit headers last said is left (requests and tokens) until their
 * reset: admissions past it wait for the reset, even when the configured windows have room.
 */
export class ProviderCeiling {
  #requests: Ceiling | undefined;
  #tokens: Ceiling | undefined;

  observe(limits: ProviderLimits, t: number): void {
    if (limits.remainingRequests !== undefined && limits.resetRequestsMs !== undefined) {
      this.#requests = { remaining: limits.remainingRequests, until: t + limits.resetRequestsMs };
    }
    if (limits.remainingTokens !== undefined && limits.resetTokensMs !== undefined) {
      this.#tokens = { remaining: limits.remainingTokens, until: t + limits.resetTokensMs };
    }
  }

  /** 0 when a request of `tokens` fits under the ceiling at `t`, else ms until the reset. */
  wait(tokens: number, t: number): number {
    let wait = 0;
    const r = this.#requests;
    if (r) {
      if (t >= r.until) this.#requests = undefined;
      else if (r.remaining < 1) wait = r.until - t;
    }
    const k = this.#tokens;
    if (k && tokens > 0) {
      if (t >= k.until) this.#tokens = undefined;
      else if (k.remaining < tokens) wait = Math.max(wait, k.until - t);
    }
    return wait;
  }

  /** Counts an admission against what is left. */
  admitted(tokens: number): void {
    if (this.#requests) this.#requests.remaining--;
    if (tokens > 0 && this.#tokens) this.#tokens.remaining -= tokens;
  }
}
