import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { LatencySummary } from '../executor/latency-histogram.js';

/** How often the monitor's timer is due (ms). */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/**
 * This thread's event-loop delay: how late a timer due every 10 ms ran. Node's
 * monitorEventLoopDelay records each whole interval between the timer's runs (an idle loop reads
 * 10 ms, not 0), so the due interval is taken off every figure.
 */
export class LoopDelay {
  readonly #h: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });

  enable(): void {
    this.#h.enable();
  }

  disable(): void {
    this.#h.disable();
  }

  reset(): void {
    this.#h.reset();
  }

  /** The longest delay so far (ms). */
  get maxMs(): number {
    return late(this.#h.count === 0 ? 0 : this.#h.max);
  }

  summary(): LatencySummary {
    const h = this.#h;
    if (h.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return { count: h.count, mean: late(h.mean), p50: late(h.percentile(50)), p90: late(h.percentile(90)), p99: late(h.percentile(99)), max: late(h.max) };
  }
}

/** An interval (ns) as lateness past the due time (ms, to the µs). */
function late(intervalNs: number): number {
  return Math.max(0, Math.round(intervalNs / 1e3 - LOOP_DELAY_RESOLUTION_MS * 1e3) / 1e3);
}
