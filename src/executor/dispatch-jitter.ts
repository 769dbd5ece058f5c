import { ConfigError } from '../core/errors.js';
import type { Limiter } from '../limits/types.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';

/** How late requests leave after admission, as `stats().dispatch` reports it (ms). */
export interface DispatchStats {
  /** Admission to the instant the request left (handler start, or `ctx.sent()`). */
  sendDelay: LatencySummary;
  /** The instant the request left to the moment the executor learnt it (a thread hop, a batch). */
  reportDelay: LatencySummary;
}

/** Reports between two updates of the guard (a percentile costs a walk of the histogram). */
const GUARD_EVERY = 16;

/** The executor's own dispatch jitter, measured on every attempt whose send instant is reported. */
export class DispatchJitter {
  readonly #send = new LatencyHistogram();
  readonly #report = new LatencyHistogram();
  readonly #guard: ((p99Ms: number) => void) | undefined;
  #recorded = 0;

  /** @param guard told the p99 (`p99Ms`) after the first report and every `GUARD_EVERY` after */
  constructor(guard?: (p99Ms: number) => void) {
    this.#guard = guard;
  }

  /**
   * The jitter of an executor whose `guard` option is `guard`: `'auto'` widens `limiter`'s
   * windows by the p99 as it is measured, a number by that many ms from the start.
   */
  static forGuard(guard: 'auto' | number | undefined, limiter: Limiter): DispatchJitter {
    if (guard === undefined) return new DispatchJitter();
    if (limiter.widen === undefined) {
      throw new ConfigError('executor config', [{ path: '/guard', rule: 'requires', message: `${guard === 'auto' ? "'auto'" : 'a guard band'} needs a limiter that can widen its windows (\`limits\`, or a Limiter with \`widen\`)` }]);
    }
    if (guard !== 'auto') {
      limiter.widen(guard);
      return new DispatchJitter();
    }
    return new DispatchJitter((ms) => limiter.widen!(ms));
  }

  record(admittedAt: number, sentAt: number, reportedAt: number): void {
    this.#send.recordMs(Math.max(0, sentAt - admittedAt));
    this.#report.recordMs(Math.max(0, reportedAt - sentAt));
    if (this.#guard !== undefined && this.#recorded++ % GUARD_EVERY === 0) this.#guard(this.p99Ms);
  }

  /** The p99 of admission-to-send plus report delay: how far a slot may land after its admission stamp. */
  get p99Ms(): number {
    return this.#send.summary().p99 + this.#report.summary().p99;
  }

  snapshot(): DispatchStats {
    return { sendDelay: this.#send.summary(), reportDelay: this.#report.summary() };
  }
}
