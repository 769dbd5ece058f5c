import { ConfigError } from '../core/errors.js';
import { ROUTE_NAMES, type RouteName } from './mock-options.js';

/** Route codes kept per arrival: 0 is any path that is not a known route. */
const CODES: readonly (RouteName | 'other')[] = ['other', ...ROUTE_NAMES];
const INITIAL_PLACES = 4096;

/**
 * The upstream's own record of when each request arrived: a ring buffer of typed arrays
 * (a Float64Array of times and a Uint8Array of route codes, 9 bytes an arrival), so a long soak
 * keeps the newest `capacity` arrivals in bounded memory. The arrays start at 4096 places and
 * double as arrivals come, up to `capacity`: an upstream that sees a few requests does not
 * hold (and zero) the 9 MB of the default million. Times are ms on this process's
 * `performance.now()` clock (the clock `callpool` uses everywhere), taken when the request's
 * headers arrive, before any simulated latency. They are in arrival order.
 */
export class ArrivalLog {
  readonly capacity: number;
  #times: Float64Array;
  #routes: Uint8Array;
  #total = 0;

  /** @throws ConfigError (`E_CONFIG`) unless `capacity` is a whole number in [1, 2^27] (1.2 GB of log) */
  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= 2 ** 27)) {
      throw new ConfigError('arrival log', [{ path: '/capacity', rule: 'maximum', message: `must be a whole number in [1, ${2 ** 27}], got ${String(capacity)}` }]);
    }
    this.capacity = capacity;
    this.#times = new Float64Array(Math.min(capacity, INITIAL_PLACES));
    this.#routes = new Uint8Array(this.#times.length);
  }

  /** Arrivals ever recorded (including those the ring has overwritten). */
  get total(): number {
    return this.#total;
  }

  /** Arrivals retained (at most `capacity`). */
  get size(): number {
    return Math.min(this.#total, this.capacity);
  }

  /** @internal */
  record(at: number, route: RouteName | 'other'): void {
    // Until the arrays reach `capacity` the ring has not wrapped: place i holds arrival i.
    if (this.#total === this.#times.length && this.#total < this.capacity) this.#grow();
    const i = this.#total % this.capacity;
    this.#times[i] = at;
    this.#routes[i] = Math.max(0, CODES.indexOf(route));
    this.#total++;
  }

  /** Retained arrival times, oldest first (a copy); only those of `route` when given. */
  times(route?: RouteName | 'other'): Float64Array {
    const n = this.size;
    const start = this.#total - n;
    const code = route === undefined ? -1 : CODES.indexOf(route);
    const out = new Float64Array(n);
    let k = 0;
    for (let j = 0; j < n; j++) {
      const i = (start + j) % this.capacity;
      if (code === -1 || this.#routes[i] === code) out[k++] = this.#times[i]!;
    }
    return k === n ? out : out.slice(0, k);
  }

  /** Retained arrivals with `from <= time < to`. */
  countBetween(from: number, to: number = Infinity, route?: RouteName | 'other'): number {
    let n = 0;
    for (const t of this.times(route)) if (t >= from && t < to) n++;
    return n;
  }

  /** The most arrivals inside any window `[t, t + windowMs)` (rate-limit accuracy from outside). */
  maxInWindow(windowMs: number, route?: RouteName | 'other'): number {
    const t = this.times(route);
    let best = 0;
    for (let lo = 0, hi = 0; hi < t.length; hi++) {
      while (t[hi]! - t[lo]! >= windowMs) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  /** The longest stretch without arrivals between two consecutive retained arrivals after `from`. */
  longestGap(from: number = -Infinity, route?: RouteName | 'other'): { start: number; end: number; ms: number } | undefined {
    const t = this.times(route);
    let best: { start: number; end: number; ms: number } | undefined;
    for (let i = 1; i < t.length; i++) {
      if (t[i - 1]! < from) continue;
      const ms = t[i]! - t[i - 1]!;
      if (best === undefined || ms > best.ms) best = { start: t[i - 1]!, end: t[i]!, ms };
    }
    return best;
  }

  #grow(): void {
    const times = new Float64Array(Math.min(this.capacity, this.#times.length * 2));
    const routes = new Uint8Array(times.length);
    times.set(this.#times);
    routes.set(this.#routes);
    this.#times = times;
    this.#routes = routes;
  }

  clear(): void {
    this.#total = 0;
  }
}
