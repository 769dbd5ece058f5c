import { ConfigError, type Issue } from '../core/errors.js';

/**
 * An exact rolling-window log: never more than `limit` units with times inside any window of
 * `windowMs`. Entries live in a growable ring indexed by a monotonically increasing sequence
 * number, so a placed entry can be corrected later (reconciliation) in O(1) without searching.
 *
 * Send-time accounting: an admission is first *held* (`hold`): it counts in every window and
 * never expires, because nobody knows yet when its request will leave. `place` then writes it
 * at its send instant. Times in the ring never decrease: a report that arrives out of order
 * is placed at the latest time already written, which only makes it count longer.
 */
export class SlidingWindow {
  /** Mutable for a learned provider limit, which may change. */
  limit: number;
  /** How long an entry counts: `baseWindowMs` plus the guard band (`widen`). */
  windowMs: number;
  #baseMs: number;
  #guardMs = 0;
  #times: Float64Array;
  #amounts: Float64Array;
  #mask: number;
  /** Sequence number of the oldest live entry, and of the next entry to be written. */
  #head = 0;
  #tail = 0;
  #used = 0;
  /** Units held by admissions not yet placed. */
  #held = 0;
  #last = -Infinity;

  /** @throws ConfigError (`E_CONFIG`) unless `limit` >= 1 and `windowMs` >= 0 are finite and `initialCapacity` is in [1, 2^20] */
  constructor(limit: number, windowMs: number, initialCapacity = 64) {
    const issues: Issue[] = [];
    if (!(typeof limit === 'number' && limit >= 1 && limit <= Number.MAX_SAFE_INTEGER)) issues.push({ path: '/limit', rule: 'minimum', message: `must be a finite number >= 1, got ${describe(limit)}` });
    if (!(typeof windowMs === 'number' && windowMs >= 0 && windowMs < Infinity)) issues.push({ path: '/windowMs', rule: 'minimum', message: `must be a finite number of ms >= 0, got ${describe(windowMs)}` });
    if (!(Number.isInteger(initialCapacity) && initialCapacity >= 1 && initialCapacity <= MAX_INITIAL)) issues.push({ path: '/initialCapacity', rule: 'maximum', message: `must be a whole number in [1, ${MAX_INITIAL}], got ${describe(initialCapacity)}` });
    if (issues.length > 0) throw new ConfigError('sliding window', issues);
    this.limit = limit;
    this.#baseMs = windowMs;
    this.windowMs = windowMs;
    let cap = 16;
    while (cap < Math.min(initialCapacity, limit + 1)) cap *= 2;
    this.#times = new Float64Array(cap);
    this.#amounts = new Float64Array(cap);
    this.#mask = cap - 1;
  }

  /** The window without its guard band: as configured, or as far as `stretch` has taken it. */
  get baseWindowMs(): number {
    return this.#baseMs;
  }

  /** Sets the guard band added to the window (replacing the previous one). */
  widen(guardMs: number): void {
    this.#guardMs = guardMs;
    this.windowMs = this.#baseMs + guardMs;
  }

  /** Sets the window itself (a provider's limit learned again), keeping the guard band. */
  stretch(baseMs: number): void {
    this.#baseMs = baseMs;
    this.windowMs = baseMs + this.#guardMs;
  }

  /** Units counted inside the window ending at `t`, held ones included. */
  used(t: number): number {
    this.#prune(t);
    return this.#used + this.#held;
  }

  /** Units held by admissions not yet placed. */
  get held(): number {
    return this.#held;
  }

  /**
   * 0 when `amount` fits at `t`; otherwise the ms until it may (Infinity if never). Exact when
   * placed entries are in the way; when held ones are, `windowMs` (the soonest a hold placed
   * now would leave the window).
   */
  waitFor(amount: number, t: number): number {
    if (amount > this.limit) return Infinity;
    this.#prune(t);
    let over = this.#used + this.#held + amount - this.limit;
    if (over <= 0) return 0;
    for (let seq = this.#head; seq < this.#tail; seq++) {
      const i = seq & this.#mask;
      over -= this.#amounts[i]!;
      if (over <= 0) return this.#times[i]! + this.windowMs - t;
    }
    return this.windowMs;
  }

  /** Records `amount` at `t` (the caller checked `waitFor` is 0); returns its sequence number. */
  add(amount: number, t: number): number {
    if (this.#tail - this.#head > this.#mask) this.#grow();
    const seq = this.#tail++;
    const i = seq & this.#mask;
    const at = t > this.#last ? t : this.#last;
    this.#last = at;
    this.#times[i] = at;
    this.#amounts[i] = amount;
    this.#used += amount;
    return seq;
  }

  /** Holds `amount` for an admission whose send instant is not known yet. */
  hold(amount: number): void {
    this.#held += amount;
  }

  /** Moves a held `amount` to its send instant `t`; returns its sequence number. */
  place(amount: number, t: number): number {
    this.#held -= amount;
    if (this.#held < 1e-9) this.#held = Math.max(0, this.#held);
    return this.add(amount, t);
  }

  /** Changes the amount of a held admission (reconciliation before the send report). */
  adjustHeld(from: number, to: number): void {
    this.#held = Math.max(0, this.#held + to - from);
  }

  /** Sets the amount of a still-live entry (refund or extra charge); a no-op once it left the window. */
  adjust(seq: number, amount: number): void {
    if (seq < this.#head || seq >= this.#tail) return;
    const i = seq & this.#mask;
    this.#used += amount - this.#amounts[i]!;
    this.#amounts[i] = amount;
  }

  #prune(t: number): void {
    // `time + windowMs > t`, not `time > t - windowMs`: the same sum `waitFor` subtracts from,
    // so an entry that still counts always names a wait > 0 (float rounding cannot make it 0).
    const win = this.windowMs;
    while (this.#head < this.#tail) {
      const i = this.#head & this.#mask;
      if (this.#times[i]! + win > t) break;
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

/** The ring starts at most this big (16 MB of times and amounts); it grows as entries need. */
const MAX_INITIAL = 2 ** 20;

function describe(v: unknown): string {
  return typeof v === 'symbol' ? v.toString() : typeof v === 'bigint' ? `${v}n` : String(v);
}
