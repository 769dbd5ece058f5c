export interface RateWindowPoint {
  /** Start of the bucket, ms since the run began. */
  tMs: number;
  /** Most requests in any rolling window that starts inside this bucket. */
  max: number;
  /** The same over windows shortened by `toleranceMs`. */
  maxTolerant: number;
}

export interface RateAccuracy {
  /** Where the times came from: the upstream's own arrival log, or the client's admissions (with `--target`). */
  source: 'upstream-arrivals' | 'client-admissions';
  limit: number;
  windowMs: number;
  /** Requests observed in all. */
  observed: number;
  /** Most requests inside any rolling window of `windowMs`, as observed. */
  maxInWindow: number;
  /** The same over windows shortened by `toleranceMs`, which absorbs transport jitter. */
  toleranceMs: number;
  maxInWindowTolerant: number;
  /**
   * Jitter figures (shown, not judged unless `toleranceMs` equals them): the machine's longest
   * main-thread stall plus the stall monitor's resolution, and the most requests in any window
   * shortened by that much.
   */
  stall: {
    toleranceMs: number;
    maxInWindow: number;
    /** The upstream thread's longest event-loop delay (its stamps can be that late); null without the embedded upstream. */
    observerDelayMs: number | null;
    /** The upstream thread's nice value (-10: raised above the executor's threads; 0: it could not be); null without one. */
    observerNice: number | null;
    /** Whether the upstream thread ran real-time (SCHED_FIFO, above every thread of the executor); null when not known. */
    observerRealtime: boolean | null;
    /** Whether the upstream ran on a thread of the measured process or in a process of its own; null without one. */
    observerIsolation: 'thread' | 'process' | null;
  };
  /** `maxInWindowTolerant - limit`, at least 0. */
  overshoot: number;
  /** How much shorter than `windowMs` a window must be for the observed times to fit the limit (ms). */
  jitterMsToFit: number;
  /** Most admissions in any rolling window by the executor's own clock (the limiter's guarantee), when recorded. */
  admissionsMaxInWindow: number | null;
  /** `windowMs / mean(t[k] - t[k - limit])` over requests sent while calls waited for the limit; null without saturation. */
  utilisation: number | null;
  /** Pairs that mean is taken over, and the time calls waited for the request limit. */
  saturatedPairs: number;
  saturatedMs: number;
  /** Requests per rolling window over time, against the limit. */
  windows: RateWindowPoint[];
}

export interface Interval {
  start: number;
  end: number;
}

/**
 * Rate-limit accuracy from times the requests were seen (sorted, monotonic ms): the most in any
 * rolling window against the limit, and how much of the limit was used while it was the
 * bottleneck (`saturated` intervals, when the head of the queue waited for request capacity).
 * At saturation each request k is let in when request k - limit leaves the window, so the gap
 * between them is `windowMs` exactly; lateness shows as a longer gap, less utilisation.
 */
export function rateAccuracy(
  times: Float64Array,
  options: {
    source: RateAccuracy['source'];
    limit: number;
    windowMs: number;
    toleranceMs: number;
    /** The machine's jitter allowance, reported beside the judged figure. @default toleranceMs */
    stallToleranceMs?: number;
    /** The observer's longest event-loop delay, reported beside it. */
    observerDelayMs?: number | null;
    /** The observer thread's nice value, reported beside it. */
    observerNice?: number | null;
    /** Whether the observer thread ran real-time, reported beside it. */
    observerRealtime?: boolean | null;
    /** Where the observer ran, reported beside it. */
    observerIsolation?: 'thread' | 'process' | null;
    saturated: readonly Interval[];
    t0: number;
    admissions?: Float64Array;
    maxPoints?: number;
  },
): RateAccuracy {
  const { limit, windowMs, toleranceMs, saturated, t0 } = options;
  const n = times.length;
  const maxInWindow = maxIn(times, windowMs);
  const maxInWindowTolerant = maxIn(times, Math.max(1, windowMs - toleranceMs));
  const stallToleranceMs = options.stallToleranceMs ?? toleranceMs;

  let gaps = 0;
  let pairs = 0;
  let j = 0;
  // Request k counts when it was seen while calls waited for the limit, give or take the delay
  // between the client's clock and the observer's (the measured stall, not the judged tolerance:
  // a strict judgement must not count a request admitted before the wait as one sent during it).
  const margin = stallToleranceMs;
  for (let k = limit; k < n; k++) {
    const b = times[k]!;
    while (j < saturated.length && saturated[j]!.end + margin < b) j++;
    const iv = saturated[j];
    if (iv !== undefined && b >= iv.start + margin) {
      gaps += b - times[k - limit]!;
      pairs++;
    }
  }
  const saturatedMs = saturated.reduce((acc, iv) => acc + (iv.end - iv.start), 0);

  const maxPoints = options.maxPoints ?? 600;
  const span = n === 0 ? 0 : times[n - 1]! - t0;
  const bucketMs = Math.max(windowMs, Math.ceil(span / maxPoints / windowMs) * windowMs);
  const shortMs = Math.max(1, windowMs - toleranceMs);
  const windows: RateWindowPoint[] = [];
  for (let lo = 0, hi = 0, mid = 0; lo < n; lo++) {
    while (hi < n && times[hi]! - times[lo]! < windowMs) hi++;
    if (mid < lo) mid = lo;
    while (mid < n && times[mid]! - times[lo]! < shortMs) mid++;
    const tMs = Math.max(0, Math.floor((times[lo]! - t0) / bucketMs) * bucketMs);
    const last = windows[windows.length - 1];
    if (last !== undefined && last.tMs === tMs) {
      last.max = Math.max(last.max, hi - lo);
      last.maxTolerant = Math.max(last.maxTolerant, mid - lo);
    } else {
      windows.push({ tMs, max: hi - lo, maxTolerant: mid - lo });
    }
  }

  return {
    source: options.source,
    limit,
    windowMs,
    observed: n,
    maxInWindow,
    toleranceMs,
    maxInWindowTolerant,
    stall: { toleranceMs: stallToleranceMs, maxInWindow: maxIn(times, Math.max(1, windowMs - stallToleranceMs)), observerDelayMs: options.observerDelayMs ?? null, observerNice: options.observerNice ?? null, observerRealtime: options.observerRealtime ?? null, observerIsolation: options.observerIsolation ?? null },
    overshoot: Math.max(0, maxInWindowTolerant - limit),
    jitterMsToFit: jitterToFit(times, limit, windowMs),
    admissionsMaxInWindow: options.admissions === undefined ? null : maxIn(options.admissions, windowMs),
    utilisation: pairs === 0 ? null : Math.round((windowMs / (gaps / pairs)) * 10_000) / 10_000,
    saturatedPairs: pairs,
    saturatedMs: Math.round(saturatedMs),
    windows,
  };
}

/** The most times inside any half-open window `[t, t + windowMs)`. */
export function maxIn(times: Float64Array, windowMs: number): number {
  let best = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= windowMs) lo++;
    if (hi - lo + 1 > best) best = hi - lo + 1;
  }
  return best;
}

/** The least shortening of the window (to 0.1 ms) at which no window holds more than `limit`. */
function jitterToFit(times: Float64Array, limit: number, windowMs: number): number {
  if (maxIn(times, windowMs) <= limit) return 0;
  let lo = 0;
  let hi = windowMs;
  while (hi - lo > 0.1) {
    const mid = (lo + hi) / 2;
    if (maxIn(times, windowMs - mid) <= limit) hi = mid;
    else lo = mid;
  }
  return Math.round(hi * 10) / 10;
}
