import { recordInto } from '../core/call-record.js';
import { DeadlineExceededError } from '../core/errors.js';
import type { ServiceCall } from '../core/service-call.js';
import type { ServiceCallData } from '../core/schemas.js';
import type { DispatchStats } from './dispatch-jitter.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';

export interface ExecutorStats {
  /** Calls and streams accepted (each settles exactly once). */
  accepted: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Failed calls whose deadline passed (queued or running); also counted in `failed`. */
  deadlineExceeded: number;
  /** Calls refused at submit, by reason; never accepted, so not in `accepted`. */
  rejected: { queueFull: number; closed: number; invalid: number; overLimit: number };
  /** Right now. */
  queued: number;
  running: number;
  /** Times the head of the queue had to wait for rate capacity. */
  rateLimitedWaits: number;
  /** ms from queued to admitted. */
  queueWait: LatencySummary;
  /** ms from admitted to settled. */
  runTime: LatencySummary;
  /** The most recently settled calls, newest last (bounded by `historySize`). */
  history: ServiceCallData[];
  /** Dispatch jitter: how late requests left after admission (measured when a limiter is set). */
  dispatch: DispatchStats;
}

/** Counters and fixed-size histograms: memory does not grow with the calls served. */
export class StatsCollector {
  accepted = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  deadlineExceeded = 0;
  rateLimitedWaits = 0;
  readonly rejected = { queueFull: 0, closed: 0, invalid: 0, overLimit: 0 };
  readonly queueWait = new LatencyHistogram();
  readonly runTime = new LatencyHistogram();
  /** Small records, never the calls themselves (they hold requests and results). */
  readonly #ring: (ServiceCallData | undefined)[];
  #next = 0;

  constructor(historySize: number) {
    this.#ring = new Array<ServiceCallData | undefined>(historySize);
  }

  /** `call` just settled (with `outcome`); `ran`: it held a slot, so its run time counts. */
  settled(call: ServiceCall, outcome: unknown, ran: boolean): void {
    if (ran) this.runTime.recordMs(call.endedAt! - call.startedAt!);
    const status = call.status;
    if (status === 'COMPLETED') this.completed++;
    else if (status === 'CANCELLED') this.cancelled++;
    else this.failed++;
    if (outcome instanceof DeadlineExceededError) this.deadlineExceeded++;
    this.#remember(call);
  }

  #remember(call: ServiceCall): void {
    const n = this.#ring.length;
    if (n === 0) return;
    const i = this.#next;
    this.#ring[i] = recordInto(this.#ring[i] ?? emptyRecord(), call);
    this.#next = (this.#next + 1) % n;
  }

  snapshot(queued: number, running: number, redactor: (v: ServiceCallData) => ServiceCallData): Omit<ExecutorStats, 'dispatch'> {
    const history: ServiceCallData[] = [];
    const n = this.#ring.length;
    for (let i = 0; i < n; i++) {
      const c = this.#ring[(this.#next + i) % n];
      if (c) history.push(redactor({ ...c }));
    }
    return {
      accepted: this.accepted,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      deadlineExceeded: this.deadlineExceeded,
      rejected: { ...this.rejected },
      queued,
      running,
      rateLimitedWaits: this.rateLimitedWaits,
      queueWait: this.queueWait.summary(),
      runTime: this.runTime.summary(),
      history,
    };
  }
}

function emptyRecord(): ServiceCallData {
  return { id: '', service: '', branchId: '', status: 'PENDING', createdAt: 0, queuedAt: null, startedAt: null, endedAt: null, tokens: 0, error: null };
}
