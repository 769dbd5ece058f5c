import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';

/** How late requests leave after admission, as `stats().dispatch` reports it (ms). */
export interface DispatchStats {
  /** Admission to the instant the request left (handler start, or `ctx.sent()`). */
  sendDelay: LatencySummary;
  /** The instant the request left to the moment the executor learnt it (a thread hop, a batch). */
  reportDelay: LatencySummary;
}

/** The executor's own dispatch jitter, measured on every attempt whose send instant is reported. */
export class DispatchJitter {
  readonly #send = new LatencyHistogram();
  readonly #report = new LatencyHistogram();

  record(admittedAt: number, sentAt: number, reportedAt: number): void {
    this.#send.recordMs(Math.max(0, sentAt - admittedAt));
    this.#report.recordMs(Math.max(0, reportedAt - sentAt));
  }

  /** The p99 of admission-to-send plus report delay: how far a slot may land after its admission stamp. */
  get p99Ms(): number {
    return this.#send.summary().p99 + this.#report.summary().p99;
  }

  snapshot(): DispatchStats {
    return { sendDelay: this.#send.summary(), reportDelay: this.#report.summary() };
  }
}
