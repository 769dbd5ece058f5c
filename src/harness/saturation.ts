import type { Interval } from './rate-accuracy.js';

/**
 * When the request limit was the bottleneck: from the moment the head of the queue had to wait
 * for request capacity until the call is admitted. Back-to-back waits (the next head waits the
 * instant the previous one is let in) merge into one interval, so a saturated minute is one
 * entry, not thousands; at most `maxIntervals` are kept.
 */
export class SaturationTracker {
  readonly intervals: Interval[] = [];
  #open: number | undefined;
  #truncated = false;

  constructor(readonly maxIntervals = 4096) {}

  /** Whether intervals were dropped for lack of room. */
  get truncated(): boolean {
    return this.#truncated;
  }

  waiting(reason: string, at: number): void {
    if (reason !== 'requests') {
      this.admitted(at);
      return;
    }
    if (this.#open !== undefined) return;
    const last = this.intervals[this.intervals.length - 1];
    if (last !== undefined && at - last.end <= 1) {
      this.intervals.pop();
      this.#open = last.start;
    } else {
      this.#open = at;
    }
  }

  admitted(at: number): void {
    if (this.#open === undefined) return;
    if (this.intervals.length < this.maxIntervals) this.intervals.push({ start: this.#open, end: at });
    else this.#truncated = true;
    this.#open = undefined;
  }
}
