export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Counts of values in `(fromMs, toMs]`, for charts. */
export interface Bin {
  fromMs: number;
  toMs: number;
  count: number;
}

const SUB = 128;
const MAX_US = 0xffffffff;
/** Enough buckets for any 32-bit microsecond value (about 71 minutes). */
const BUCKETS = (31 - 7 + 1) * SUB + SUB;

/**
 * A fixed-size log-linear histogram of durations in microseconds, the layout of an HDR
 * histogram with 128 sub-buckets per power of two (under 0.8% relative error). Recording is
 * a couple of integer operations; memory never grows with the values recorded. Written here
 * rather than taken from hdr-histogram-js because recording sits on the per-call hot path,
 * where that library cost about 180 ns a value against about 10 ns for this.
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  get count(): number {
    return this.#count;
  }

  recordMs(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us > 0)) us = 0;
    else if (us > MAX_US) us = MAX_US;
    const shift = Math.max(0, 31 - Math.clz32(us) - 7);
    this.#counts[shift * SUB + (us >>> shift)]! += 1;
    this.#count++;
    this.#sum += us;
    if (us > this.#max) this.#max = us;
  }

  /** The value (ms) at or below which `p` percent of recorded values fall. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        return Math.min(highestUs(i), this.#max) / 1000;
      }
    }
    return this.#max / 1000;
  }

  summary(): LatencySummary {
    const n = this.#count;
    if (n === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return { count: n, mean: this.#sum / n / 1000, p50: this.percentile(50), p90: this.percentile(90), p99: this.percentile(99), max: this.#max / 1000 };
  }

  /** The shape in at most `n` bins of equal width on a log scale, from the smallest value to the largest. */
  bins(n = 24): Bin[] {
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#counts[i]! > 0) {
        if (lo < 0) lo = i;
        hi = i;
      }
    }
    if (lo < 0) return [];
    const from = Math.max(1, lowestUs(lo));
    const to = Math.max(from + 1, Math.min(highestUs(hi), this.#max));
    const step = Math.log(to / from) / n;
    const out: Bin[] = Array.from({ length: n }, (_, k) => ({ fromMs: (from * Math.exp(k * step)) / 1000, toMs: (from * Math.exp((k + 1) * step)) / 1000, count: 0 }));
    out[0]!.fromMs = 0;
    for (let i = lo; i <= hi; i++) {
      const c = this.#counts[i]!;
      if (c === 0) continue;
      const v = Math.max(from, Math.min(to, lowestUs(i)));
      const k = Math.min(n - 1, Math.floor(Math.log(v / from) / step));
      out[k]!.count += c;
    }
    return out.filter((b) => b.count > 0);
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = this.#sum = this.#max = 0;
  }
}

function shiftOf(i: number): number {
  return i < 2 * SUB ? 0 : Math.floor(i / SUB) - 1;
}

/** The smallest and largest microsecond values that land in bucket `i`. */
function lowestUs(i: number): number {
  const shift = shiftOf(i);
  return (i - shift * SUB) * 2 ** shift;
}

function highestUs(i: number): number {
  return lowestUs(i) + 2 ** shiftOf(i) - 1;
}
