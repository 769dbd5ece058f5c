import { SlidingWindow } from './sliding-window.js';
import type { ProviderLimits } from './types.js';

/** Plain admissions whose instant is kept, for the round trip of the response that first speaks. */
const PLAIN_TIMES = 1024;

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
  /** Admissions made by `admittedPlain`, whose sends are not reported. */
  #plain = 0;
  /** Their admission instants, the last `PLAIN_TIMES` of them, by sequence number. */
  readonly #plainAt = new Float64Array(PLAIN_TIMES);
  /** The guard band for the learned window (`widen`), kept for when it is learned. */
  #guard = 0;
  active = false;

  /** Requests admitted so far: the sequence number of the next one. */
  get admittedCount(): number {
    return this.#admitted;
  }

  /** Estimated tokens admitted so far. */
  get admittedTokens(): number {
    return this.#admittedTokens;
  }

  /**
   * `slot` is the admission whose response carried the headers: a full slot, or only its
   * sequence number when it was admitted before the provider had said anything (then its
   * round trip is unknown, and tokens admitted in that time are not subtracted).
   */
  observe(limits: ProviderLimits, t: number, slot: ProviderSlot | number | undefined): void {
    // Our requests the provider may not have counted when it wrote the header: every one
    // admitted after `slot`, and every one still unsent (held) now.
    const pending = this.#admitted - this.#plain - this.#sent;
    const pendingTokens = this.#admittedTokens - this.#sentTokens;
    const reqSeq = typeof slot === 'number' ? slot : slot?.reqSeq;
    const after = reqSeq === undefined ? 0 : Math.max(0, this.#admitted - reqSeq - 1);
    const afterTokens = slot === undefined || typeof slot === 'number' ? 0 : Math.max(0, this.#admittedTokens - slot.tokSeq - slot.charged);
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
      const span = limits.resetRequestsMs + Math.max(0, t - this.#leftAt(slot));
      if (this.#window === undefined) {
        this.#window = new SlidingWindow(limit, span);
        this.#window.widen(this.#guard);
        // Our sends before it was learned are not in it: seed it with what the provider
        // says is used, plus what it cannot have counted, as if all were sent now.
        const used = Math.min(limit, limit - (limits.remainingRequests ?? limit) + after + pending);
        for (let i = 0; i < used; i++) this.#window.add(1, t);
      } else {
        this.#window.limit = limit;
        if (span > this.#window.baseWindowMs) this.#window.stretch(span);
      }
      this.active = true;
    }
  }

  /**
   * When the request of `slot` left, as far as known: its send report, else its admission.
   * A plain admission (a sequence number) has only its admission instant, kept for the last
   * `PLAIN_TIMES`; older or unknown, `t` itself (no round trip). Never later than the send, so
   * the span it gives is never shorter than the provider's.
   */
  #leftAt(slot: ProviderSlot | number | undefined): number {
    if (slot === undefined) return Infinity;
    if (typeof slot !== 'number') return slot.sentAt ?? slot.at;
    return slot >= 0 && slot < this.#plain && this.#plain - slot <= PLAIN_TIMES ? this.#plainAt[slot % PLAIN_TIMES]! : Infinity;
  }

  /** Adds a guard band of `ms` to the learned window (replacing the previous guard), as `Limiter.widen` does to configured ones. */
  widen(ms: number): void {
    this.#guard = ms;
    this.#window?.widen(ms);
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

  /**
   * Counts an admission made while nothing is active; returns its sequence number. Its send
   * is not tracked (that would cost every call while no provider has spoken): once one does,
   * such admissions count only through the admitted-after rule.
   */
  admittedPlain(t: number): number {
    this.#plainAt[this.#admitted % PLAIN_TIMES] = t;
    this.#plain++;
    return this.#admitted++;
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
