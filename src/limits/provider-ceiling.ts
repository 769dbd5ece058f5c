import { SlidingWindow } from './sliding-window.js';
import type { ProviderLimits } from './types.js';

interface Ceiling {
  remaining: number;
  until: number;
}

/** What the provider state needs to know of one admission (the memory limiter's ticket has it). */
export interface ProviderSlot {
  /** Requests, and estimated tokens, admitted before this one. */
  readonly reqSeq: number;
  readonly tokSeq: number;
  /** The estimate charged at admission. */
  readonly charged: number;
  /** Monotonic instants of the admission and of the send report (undefined until reported). */
  readonly at: number;
  sentAt: number | undefined;
  /** Whether the learned window held this admission (it may have been learned after). */
  providerHeld: boolean;
}

/**
 * What the provider's rate-limit headers say, applied with no configuration at all:
 *
 * - a *ceiling*: no more than `remaining` admissions until the reset, where `remaining` is
 *   the header's value less our own requests it cannot have counted yet (those admitted after
 *   the request whose response carried it, and every one not yet sent);
 * - a *learned window*: when the provider announces its limit (`x-ratelimit-limit-requests`),
 *   a rolling window of that limit over our own send instants, as long as the longest span
 *   the provider's reset was seen to cover (its reset plus the round trip of the request that
 *   brought it). Rolling is stricter than a provider's fixed window of the same length, so it
 *   holds whatever the provider's phase, and keeps holding after a reset, between headers.
 *
 * Until a provider says something, `active` is false and nothing here is consulted.
 */
export class ProviderCeiling {
  #requests: Ceiling | undefined;
  #tokens: Ceiling | undefined;
  #window: SlidingWindow | undefined;
  /** Admissions and send reports counted so far (requests, and estimated tokens). */
  #admitted = 0;
  #admittedTokens = 0;
  #sent = 0;
  #sentTokens = 0;
  active = false;

  /** Requests admitted so far: the sequence number of the next one. */
  get admittedCount(): number {
    return this.#admitted;
  }

  /** Estimated tokens admitted so far. */
  get admittedTokens(): number {
    return this.#admittedTokens;
  }

  observe(limits: ProviderLimits, t: number, slot: ProviderSlot | undefined): void {
    // Our requests the provider may not have counted when it wrote the header: every one
    // admitted after `slot`, and every one still unsent (held) now.
    const pending = this.#admitted - this.#sent;
    const pendingTokens = this.#admittedTokens - this.#sentTokens;
    const after = slot === undefined ? 0 : Math.max(0, this.#admitted - slot.reqSeq - 1);
    const afterTokens = slot === undefined ? 0 : Math.max(0, this.#admittedTokens - slot.tokSeq - slot.charged);
    if (limits.remainingRequests !== undefined && limits.resetRequestsMs !== undefined) {
      this.#requests = { remaining: limits.remainingRequests - after - pending, until: t + limits.resetRequestsMs };
      this.active = true;
    }
    if (limits.remainingTokens !== undefined && limits.resetTokensMs !== undefined) {
      this.#tokens = { remaining: limits.remainingTokens - afterTokens - pendingTokens, until: t + limits.resetTokensMs };
      this.active = true;
    }
    const limit = limits.limitRequests;
    if (limit !== undefined && limit >= 1 && limits.resetRequestsMs !== undefined) {
      const roundTrip = slot === undefined ? 0 : t - (slot.sentAt ?? slot.at);
      const span = limits.resetRequestsMs + Math.max(0, roundTrip);
      if (this.#window === undefined) this.#window = new SlidingWindow(limit, span);
      else {
        this.#window.limit = limit;
        if (span > this.#window.windowMs) this.#window.windowMs = span;
      }
      this.active = true;
    }
  }

  /** 0 when a request of `tokens` fits under the ceilings and the learned window at `t`, else ms until it may. */
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
    if (this.#window !== undefined) wait = Math.max(wait, this.#window.waitFor(1, t));
    return wait;
  }

  /** Counts an admission against what is left; `slot` carries its sequence numbers from here on. */
  admitted(slot: ProviderSlot): void {
    this.#admitted++;
    this.#admittedTokens += slot.charged;
    if (!this.active) return;
    if (this.#requests) this.#requests.remaining--;
    if (slot.charged > 0 && this.#tokens) this.#tokens.remaining -= slot.charged;
    if (this.#window !== undefined) {
      this.#window.hold(1);
      slot.providerHeld = true;
    }
  }

  /** The admission of `slot` left at `t`. */
  sent(slot: ProviderSlot, t: number): void {
    this.#sent++;
    this.#sentTokens += slot.charged;
    const w = this.#window;
    if (w === undefined) return;
    if (slot.providerHeld) w.place(1, t);
    else w.add(1, t);
  }
}
