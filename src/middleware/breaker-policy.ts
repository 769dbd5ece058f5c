import { resolveFailureRatioOptions, type FailureRatioOptions, type TripPolicy } from './options.js';

export type { FailureRatioOptions, TripPolicy } from './options.js';

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

  /** @throws ConfigError (`E_CONFIG`) for options out of range */
  constructor(options: FailureRatioOptions) {
    const o = resolveFailureRatioOptions(options);
    this.ratio = o.ratio;
    this.windowMs = o.windowMs;
    this.minVolume = o.minVolume;
    const n = o.buckets;
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
