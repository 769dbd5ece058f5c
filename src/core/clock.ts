import { performance } from 'node:perf_hooks';

/** Monotonic milliseconds (sub-millisecond precision); never jumps with the wall clock. */
export const now: () => number = performance.now.bind(performance);

/** Converts a monotonic instant of this thread into wall-clock epoch ms (to cross threads). */
export function toEpoch(monotonic: number): number {
  return performance.timeOrigin + monotonic;
}

/** Converts wall-clock epoch ms into this thread's monotonic clock. */
export function fromEpoch(epochMs: number): number {
  return epochMs - performance.timeOrigin;
}
