import { performance } from 'node:perf_hooks';

/**
 * Monotonic milliseconds (sub-millisecond precision); never jumps with the wall clock.
 * Looks `performance.now` up at each call (not bound once at load) so that fake timers
 * (@sinonjs/fake-timers, which patches perf_hooks' `performance.now`) drive every
 * component's clock in tests.
 */
export const now = (): number => performance.now();

/** Converts a monotonic instant of this thread into wall-clock epoch ms (to cross threads). */
export function toEpoch(monotonic: number): number {
  return performance.timeOrigin + monotonic;
}

/** Converts wall-clock epoch ms into this thread's monotonic clock. */
export function fromEpoch(epochMs: number): number {
  return epochMs - performance.timeOrigin;
}
