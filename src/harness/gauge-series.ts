export interface GaugePoint {
  /** ms since the run began. */
  tMs: number;
  [gauge: string]: number;
}

/**
 * Gauges sampled over time (queue depth, calls running) in bounded memory: past `maxPoints`,
 * every other sample is dropped and the interval doubles, as the memory sampler does.
 */
export class GaugeSeries {
  readonly #points: GaugePoint[] = [];
  #everyMs: number;
  #nextAt = 0;

  constructor(readonly t0: number, everyMs: number, readonly maxPoints = 600) {
    this.#everyMs = everyMs;
  }

  get everyMs(): number {
    return this.#everyMs;
  }

  /** Records the values at `at` unless the last sample is closer than the interval. */
  sample(at: number, values: Record<string, number>): void {
    const tMs = Math.max(0, at - this.t0);
    if (tMs < this.#nextAt) return;
    this.#points.push({ ...values, tMs: Math.round(tMs) });
    this.#nextAt = tMs + this.#everyMs;
    if (this.#points.length >= this.maxPoints) {
      const kept = this.#points.filter((_, i) => i % 2 === 0);
      this.#points.length = 0;
      this.#points.push(...kept);
      this.#everyMs *= 2;
    }
  }

  points(): GaugePoint[] {
    return this.#points.map((p) => ({ ...p }));
  }
}
