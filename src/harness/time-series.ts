export interface SeriesPoint {
  /** Start of the bucket, ms since the run began. */
  tMs: number;
  /** Per-second rates over the bucket, one per counter. */
  [counter: string]: number;
}

/**
 * Counters per time bucket (throughput over time) in bounded memory: when the run outgrows
 * `maxPoints` buckets, neighbours merge and the bucket doubles, so a 10-minute soak keeps the
 * same few kilobytes as a 10-second one.
 */
export class TimeSeries<K extends string> {
  #bucketMs: number;
  readonly #counts: Record<K, Float64Array>;
  #used = 0;

  constructor(readonly names: readonly K[], readonly t0: number, bucketMs = 250, readonly maxPoints = 512) {
    this.#bucketMs = bucketMs;
    this.#counts = {} as Record<K, Float64Array>;
    for (const n of names) this.#counts[n] = new Float64Array(maxPoints);
  }

  get bucketMs(): number {
    return this.#bucketMs;
  }

  add(name: K, at: number, n = 1): void {
    let i = Math.floor((at - this.t0) / this.#bucketMs);
    if (i < 0) i = 0;
    while (i >= this.maxPoints) {
      this.#halve();
      i = Math.floor((at - this.t0) / this.#bucketMs);
    }
    this.#counts[name][i]! += n;
    if (i + 1 > this.#used) this.#used = i + 1;
  }

  /** Buckets up to `until` (monotonic ms), as per-second rates; the last may be partial. */
  points(until: number): SeriesPoint[] {
    const last = Math.max(this.#used, Math.min(this.maxPoints, Math.ceil((until - this.t0) / this.#bucketMs)));
    const out: SeriesPoint[] = [];
    for (let i = 0; i < last; i++) {
      const start = i * this.#bucketMs;
      const span = Math.max(1, Math.min(this.#bucketMs, until - this.t0 - start));
      const p: SeriesPoint = { tMs: start };
      for (const n of this.names) p[n] = Math.round((this.#counts[n][i]! / span) * 1000 * 100) / 100;
      out.push(p);
    }
    return out;
  }

  #halve(): void {
    for (const n of this.names) {
      const c = this.#counts[n];
      for (let i = 0; i < this.maxPoints / 2; i++) c[i] = c[2 * i]! + c[2 * i + 1]!;
      c.fill(0, this.maxPoints / 2);
    }
    this.#used = Math.ceil(this.#used / 2);
    this.#bucketMs *= 2;
  }
}
