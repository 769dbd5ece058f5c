import { performance } from 'node:perf_hooks';

/**
 * Monotonic milliseconds (sub-millisecond precision); never jumps with the wall clock.
 * Looks `performance.now` up at each call (not bound once at load) so that fake timers
 * (@sinonjs/fake-timers, which patches perf_hooks' `performance.now`) drive every
 * component's clock in tests.
 */
export const now = (): number => performance.now();

/**
 * This thread's monotonic clock less the machine's (CLOCK_MONOTONIC, which every thread and
 * process on the machine reads alike). Each thread's `performance.timeOrigin` is its own
 * reading of the wall clock, off from another thread's by up to a few tenths of a ms (0.3
 * measured): too coarse for instants compared across threads or processes, such as send
 * stamps and arrivals at a rate window's edge.
 */
const MACHINE_SHIFT = machineShift();

/** The shift, read between two readings of this thread's clock: the closest pair of five (the first reads run cold). */
function machineShift(): number {
  let gap = Infinity;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const before = performance.now();
    const machine = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < gap) {
      gap = after - before;
      shift = machine - (before + after) / 2;
    }
  }
  return shift;
}

/** Converts a monotonic instant of this thread into the machine's monotonic ms (to compare across threads and processes). */
export function toMachine(monotonic: number): number {
  return monotonic + MACHINE_SHIFT;
}

/** Converts the machine's monotonic ms into this thread's monotonic clock. */
export function fromMachine(machineMs: number): number {
  return machineMs - MACHINE_SHIFT;
}

/** Converts a monotonic instant of this thread into wall-clock epoch ms (deadlines; a few tenths of a ms apart between threads). */
export function toEpoch(monotonic: number): number {
  return performance.timeOrigin + monotonic;
}

/** Converts wall-clock epoch ms into this thread's monotonic clock. */
export function fromEpoch(epochMs: number): number {
  return epochMs - performance.timeOrigin;
}
