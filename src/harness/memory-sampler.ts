import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemorySample {
  /** ms since the run began. */
  tMs: number;
  /** Main-thread heap in use right after a full GC (MB): what is really retained. */
  heapMb: number;
  /** Resident set size of the whole process, worker threads included (MB). */
  rssMb: number;
}

export interface Slope {
  /** Least-squares slope (MB per minute). */
  mbPerMin: number;
  /** Its standard error: a slope within about two of these of 0 is noise. */
  stderr: number;
  samples: number;
}

export interface MemoryReport {
  everyMs: number;
  samples: MemorySample[];
  /** Fitted over the samples of the second half of the run (the first half includes warm-up). */
  heapSlope: Slope;
  rssSlope: Slope;
  secondHalfFromMs: number;
  heapStartMb: number;
  heapEndMb: number;
  peakRssMb: number;
}

const MB = 1024 * 1024;

/** `gc()` even when node was started without `--expose-gc` (the flag can be set at run time). */
export function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Samples heap-after-GC and RSS at an interval, in bounded memory: past `maxSamples`, every
 * other sample is dropped and the interval doubles. Each sample costs one full GC on the main
 * thread (a few ms), which is why the interval is not tiny.
 */
export class MemorySampler {
  readonly #gc = exposeGc();
  readonly #samples: MemorySample[] = [];
  #everyMs: number;
  #timer: NodeJS.Timeout | undefined;
  #peakRss = 0;

  constructor(readonly t0: number, everyMs: number, readonly clock: () => number, readonly maxSamples = 1024) {
    this.#everyMs = everyMs;
  }

  /** The newest sample, if any. */
  get last(): MemorySample | undefined {
    return this.#samples[this.#samples.length - 1];
  }

  start(): void {
    this.sample();
    this.#schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  sample(): MemorySample {
    this.#gc();
    const m = process.memoryUsage();
    this.#peakRss = Math.max(this.#peakRss, m.rss);
    const s = { tMs: Math.round(this.clock() - this.t0), heapMb: round(m.heapUsed / MB), rssMb: round(m.rss / MB) };
    this.#samples.push(s);
    if (this.#samples.length > this.maxSamples) {
      const kept = this.#samples.filter((_, i) => i % 2 === 0);
      this.#samples.length = 0;
      this.#samples.push(...kept);
      this.#everyMs *= 2;
    }
    return s;
  }

  report(): MemoryReport {
    const all = this.#samples;
    const end = all.length === 0 ? 0 : all[all.length - 1]!.tMs;
    const from = end / 2;
    const half = all.filter((s) => s.tMs >= from);
    return {
      everyMs: this.#everyMs,
      samples: all.slice(),
      heapSlope: slope(half.map((s) => s.tMs), half.map((s) => s.heapMb)),
      rssSlope: slope(half.map((s) => s.tMs), half.map((s) => s.rssMb)),
      secondHalfFromMs: Math.round(from),
      heapStartMb: all[0]?.heapMb ?? 0,
      heapEndMb: all[all.length - 1]?.heapMb ?? 0,
      peakRssMb: round(this.#peakRss / MB),
    };
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.sample();
      this.#schedule();
    }, this.#everyMs);
    this.#timer.unref();
  }
}

/** Least-squares slope of y (MB) over x (ms), in MB per minute, with its standard error. */
export function slope(xs: readonly number[], ys: readonly number[]): Slope {
  const n = xs.length;
  if (n < 3) return { mbPerMin: 0, stderr: Infinity, samples: n };
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (sxx === 0) return { mbPerMin: 0, stderr: Infinity, samples: n };
  const b = sxy / sxx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (my + b * (xs[i]! - mx))) ** 2;
  const se = Math.sqrt(sse / (n - 2) / sxx);
  return { mbPerMin: round(b * 60_000), stderr: round(se * 60_000), samples: n };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
