/**
 * When a closed circuit trips. The breaker tells its policy of every counted outcome (only
 * failures that pass its filter, and successes) and opens when `failure` returns true.
 */
export interface TripPolicy {
  success(at: number): void;
  /** Records a failure; true when the circuit should open. */
  failure(at: number): boolean;
  /** Forgets everything (the circuit closed again). */
  reset(): void;
}

/** Trips after `threshold` failures in a row; a success starts the count again. */
export class ConsecutiveFailures implements TripPolicy {
  #run = 0;
  constructor(readonly threshold: number) {}
  success(): void {
    this.#run = 0;
  }
  failure(): boolean {
    return ++this.#run >= this.threshold;
  }
  reset(): void {
    this.#run = 0;
  }
}

export interface FailureRatioOptions {
  /** Trip when failures / outcomes reaches this, in (0, 1]. */
  ratio: number;
  /** The rolling window outcomes are counted over (ms). @default 10_000 */
  windowMs?: number;
  /** No trip with fewer outcomes than this in the window. @default 10 */
  minVolume?: number;
  /** Slices of the window; outcomes expire a slice at a time. @default 10 */
  buckets?: number;
}

/**
 * Trips when, over a rolling window, there were at least `minVolume` outcomes and the share
 * of failures reached `ratio`. The window is a ring of fixed slices: O(buckets) memory whatever
 * the traffic, and an outcome older than the window (give or take one slice) no longer counts.
 */
export class FailureRatio implements TripPolicy {
  readonly ratio: number;
  readonly windowMs: number;
  readonly minVolume: number;
  readonly #sliceMs: number;
  readonly #slot: number[];
  readonly #ok: number[];
  readonly #bad: number[];

  constructor(options: FailureRatioOptions) {
    this.ratio = options.ratio;
    this.windowMs = options.windowMs ?? 10_000;
    this.minVolume = options.minVolume ?? 10;
    const n = options.buckets ?? 10;
    this.#sliceMs = this.windowMs / n;
    this.#slot = new Array<number>(n).fill(-Infinity);
    this.#ok = new Array<number>(n).fill(0);
    this.#bad = new Array<number>(n).fill(0);
  }

  success(at: number): void {
    this.#ok[this.#index(at)]!++;
  }

  failure(at: number): boolean {
    this.#bad[this.#index(at)]!++;
    const oldest = Math.floor(at / this.#sliceMs) - this.#slot.length + 1;
    let ok = 0;
    let bad = 0;
    for (let i = 0; i < this.#slot.length; i++) {
      if (this.#slot[i]! < oldest) continue;
      ok += this.#ok[i]!;
      bad += this.#bad[i]!;
    }
    const total = ok + bad;
    return total >= this.minVolume && bad / total >= this.ratio;
  }

  reset(): void {
    this.#slot.fill(-Infinity);
    this.#ok.fill(0);
    this.#bad.fill(0);
  }

  #index(at: number): number {
    const slot = Math.floor(at / this.#sliceMs);
    const n = this.#slot.length;
    const i = ((slot % n) + n) % n;
    if (this.#slot[i] !== slot) {
      this.#slot[i] = slot;
      this.#ok[i] = 0;
      this.#bad[i] = 0;
    }
    return i;
  }
}
