// Run as a thread (machine-clock.test): posts how far its machine clock is from CLOCK_MONOTONIC (ms).
import { parentPort } from 'node:worker_threads';
import { now, toMachine } from '../../src/core/clock.js';

parentPort?.postMessage(offset());

/** This thread's machine-clock reading less CLOCK_MONOTONIC read between two of them: the closest pair of five. */
export function offset(): number {
  let gap = Infinity;
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const before = toMachine(now());
    const machine = Number(process.hrtime.bigint()) / 1e6;
    const after = toMachine(now());
    if (after - before < gap) {
      gap = after - before;
      best = (before + after) / 2 - machine;
    }
  }
  return best;
}
