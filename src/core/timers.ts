import { MAX_TIMER_MS } from './bounds.js';
import { now } from './clock.js';
import { noop } from './noop.js';

/** A timer that may be cleared; see `setLongTimeout`. */
export interface LongTimeout {
  clear(): void;
}

/**
 * `setTimeout` for any delay: Node fires a delay over 2^31-1 ms after 1 ms (with a
 * TimeoutOverflowWarning), so a longer one waits in steps of at most that and re-arms. A far
 * (or infinite) timer costs one idle timer, never a loop; NaN counts as 0. `unref`: it does not
 * hold the process open.
 */
export function setLongTimeout(fn: () => void, delayMs: number, options: { unref?: boolean } = {}): LongTimeout {
  const end = now() + (delayMs > 0 ? delayMs : 0);
  let timer: NodeJS.Timeout;
  const step = (): void => {
    const left = end - now();
    if (left <= 0) {
      fn();
      return;
    }
    timer = setTimeout(step, Math.min(Math.ceil(left), MAX_TIMER_MS));
    if (options.unref) timer.unref();
  };
  timer = setTimeout(step, Math.min(Math.ceil(end - now()), MAX_TIMER_MS));
  if (options.unref) timer.unref();
  return { clear: () => clearTimeout(timer) };
}

/** Resolves when `p` settles or after `limitMs` (never, if `limitMs` is not finite), whichever is first; leaves no timer. */
export async function settledWithin(p: Promise<unknown>, limitMs: number): Promise<void> {
  if (!Number.isFinite(limitMs)) {
    await p.then(noop, noop);
    return;
  }
  let timer: LongTimeout | undefined;
  await Promise.race([p.then(noop, noop), new Promise<void>((resolve) => (timer = setLongTimeout(resolve, limitMs)))]);
  timer?.clear();
}
