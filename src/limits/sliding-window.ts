/**
 * An exact rolling-window log: never more than `limit` units admitted with start times inside
 * any window of `windowMs`. Entries live in a growable ring indexed by a monotonically
 * increasing sequence number, so an admitted entry can be corrected later (reconciliation)
 * in O(1) without searching.
 */
export class SlidingWindow {
  readonly limit: number;
  readonly windowMs: number;
  /** Added to `windowMs` (`Limiter.widen`): slots may land this much after their admission stamp. */
  guardMs = 0;
  #times: Float64Array;
  #amounts: Float64Array;
  #mask: number;
  /** Sequence number of the oldest live entry, and of the next entry to be written. */
  #head = 0;
  #tail = 0;
  #used = 0;

  constructor(limit: number, windowMs: number, initialCapacity = 64) {
    this.limit = limit;
    this.windowMs = windowMs;
    let cap = 16;
    while (cap < Math.min(initialCapacity, limit + 1)) cap *= 2;
    this.#times = new Float64Array(cap);
    this.#amounts = new Float64Array(cap);
    this.#mask = cap - 1;
  }

  /** Units admitted inside the window ending at `t`. */
  used(t: number): number {
    this.#prune(t);
    return this.#used;
  }

  /** 0 when `amount` fits at `t`; otherwise the exact ms until it will (Infinity if never). */
  waitFor(amount: number, t: number): number {
    if (amount > this.limit) return Infinity;
    this.#prune(t);
    let over = this.#used + amount - this.limit;
    if (over <= 0) return 0;
    for (let seq = this.#head; seq < this.#tail; seq++) {
      const i = seq & this.#mask;
      over -= this.#amounts[i]!;
      if (over <= 0) return this.#times[i]! + this.windowMs + this.guardMs - t;
    }
    return this.windowMs + this.guardMs;
  }

  /** Records an admission of `amount` at `t` (the caller checked `waitFor` is 0); returns its sequence number. */
  add(amount: number, t: number): number {
    if (this.#tail - this.#head > this.#mask) this.#grow();
    const seq = this.#tail++;
    const i = seq & this.#mask;
    this.#times[i] = t;
    this.#amounts[i] = amount;
    this.#used += amount;
    return seq;
  }

  /** Sets the amount of a still-live entry (refund or extra charge); a no-op once it left the window. */
  adjust(seq: number, amount: number): void {
    if (seq < this.#head || seq >= this.#tail) return;
    const i = seq & this.#mask;
    this.#used += amount - this.#amounts[i]!;
    this.#amounts[i] = amount;
  }

  #prune(t: number): void {
    const edge = t - this.windowMs - this.guardMs;
    while (this.#head < this.#tail) {
      const i = this.#head & this.#mask;
      if (this.#times[i]! > edge) break;
      this.#used -= this.#amounts[i]!;
      this.#head++;
    }
    if (this.#head === this.#tail) this.#used = 0;
  }

  #grow(): void {
    const cap = (this.#mask + 1) * 2;
    const mask = cap - 1;
    const times = new Float64Array(cap);
    const amounts = new Float64Array(cap);
    for (let seq = this.#head; seq < this.#tail; seq++) {
      times[seq & mask] = this.#times[seq & this.#mask]!;
      amounts[seq & mask] = this.#amounts[seq & this.#mask]!;
    }
    this.#times = times;
    this.#amounts = amounts;
    this.#mask = mask;
  }
}
