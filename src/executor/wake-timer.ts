import { MAX_TIMER_MS } from '../core/bounds.js';
import { now } from '../core/clock.js';

/**
 * One timer that fires `fn` at an exact monotonic instant. Node timers have millisecond
 * granularity and may fire up to ~1 ms early or late, so the timer aims 1 ms short and the
 * last stretch is covered by `setImmediate` turns: admissions wake within microseconds of
 * the moment capacity frees, without a polling loop while nothing is due.
 */
export class WakeTimer {
  #at = Infinity;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;

  constructor(private readonly fn: () => void) {}

  get armed(): boolean {
    return this.#at !== Infinity;
  }

  /**
   * Fire at `at` (monotonic ms), or sooner if already armed for an earlier instant. Never
   * fires inside this call, even for an instant already past: the caller may be in the
   * middle of changing the state `fn` reads.
   */
  at(at: number): void {
    // NaN would never be due nor past: an endless setImmediate loop. Treat it as "now".
    if (Number.isNaN(at)) at = now();
    if (this.armed && this.#at <= at) return;
    this.cancel();
    this.#at = at;
    this.#arm(at - now());
  }

  cancel(): void {
    this.#at = Infinity;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = this.#immediate = undefined;
  }

  /**
   * Waits `left` ms (read once by the caller): a timer for a far instant, else a turn. Never
   * calls `fn`: a second reading of the clock here could find the instant past (a GC pause
   * between the two reads) and fire inside `at()`.
   */
  #arm(left: number): void {
    // A far instant waits in steps a Node timer can take (longer ones fire after 1 ms).
    if (left > 2) this.#timer = setTimeout(this.#schedule, Math.min(Math.floor(left - 1), MAX_TIMER_MS));
    else this.#immediate = setImmediate(this.#schedule);
  }

  #schedule = (): void => {
    this.#timer = this.#immediate = undefined;
    const left = this.#at - now();
    if (left <= 0) {
      this.#at = Infinity;
      this.fn();
    } else {
      this.#arm(left);
    }
  };
}
