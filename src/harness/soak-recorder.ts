import { now } from '../core/clock.js';
import type { Executor } from '../executor/executor.js';
import { LatencyHistogram } from '../executor/latency-histogram.js';
import { ArrivalLog } from './arrival-log.js';
import { GaugeSeries } from './gauge-series.js';
import { LoopDelay } from './loop-delay.js';
import type { WorkKind } from './load-generator.js';
import { MemorySampler } from './memory-sampler.js';
import { roundedBins, roundedSummary } from './report-builder.js';
import type { SoakReport } from './report.js';
import { SaturationTracker } from './saturation.js';
import { codeOf } from './soak-common.js';
import { TimeSeries } from './time-series.js';

const SERIES = ['offered', 'completed', 'failed', 'chunks'] as const;

/**
 * Everything one process measures during a run, in bounded memory (histograms, counters and
 * decimating series), so the harness stays flat however long it runs. It listens to the
 * executor from {@link Recorder.attach}, which the runner calls only once the warm-up is over.
 */
export class Recorder {
  readonly queueWait = new LatencyHistogram();
  readonly runTime = new LatencyHistogram();
  readonly total = new LatencyHistogram();
  readonly ttfb = new LatencyHistogram();
  readonly lag = new LatencyHistogram();
  readonly errors: Record<string, number> = {};
  readonly byKind: Record<WorkKind, number> = { call: 0, stream: 0, embeddings: 0 };
  readonly saturation = new SaturationTracker();
  readonly admissions: ArrivalLog | undefined;
  offered = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  refused = 0;
  chunks = 0;
  streamsCompleted = 0;
  lastSettled = 0;
  #t0 = 0;
  #series: TimeSeries<(typeof SERIES)[number]> | undefined;
  #queue: GaugeSeries | undefined;
  #memory: MemorySampler | undefined;
  readonly #loopDelay = new LoopDelay();

  constructor(logAdmissions: boolean) {
    this.admissions = logAdmissions ? new ArrivalLog(1 << 20) : undefined;
  }

  /** Subscribes to the executor's events: every event from now on is the run's. */
  attach(ex: Executor): void {
    ex.on('admitted', (e) => {
      this.queueWait.recordMs(e.queueWaitMs);
      this.saturation.admitted(e.at);
      this.admissions?.record(e.at, 'other');
    });
    ex.on('rateLimited', (e) => this.saturation.waiting(e.reason, now()));
    ex.on('settled', (e) => {
      if (e.runMs > 0) this.runTime.recordMs(e.runMs);
    });
  }

  /** Starts the clock: time series, memory sampling and the event-loop monitor. */
  start(t0: number, memoryEveryMs: number, tickMs: number): void {
    this.#t0 = t0;
    this.#series = new TimeSeries(SERIES, t0, 250);
    this.#queue = new GaugeSeries(t0, tickMs);
    this.#memory = new MemorySampler(t0, memoryEveryMs, now);
    this.#loopDelay.enable();
    this.#memory.start();
  }

  stop(): void {
    this.#memory?.stop();
    this.#loopDelay.disable();
  }

  get memory(): MemorySampler {
    return this.#memory!;
  }

  get done(): number {
    return this.completed + this.failed + this.cancelled + this.refused;
  }

  offer(kind: WorkKind, at: number, lateMs: number): void {
    this.offered++;
    this.byKind[kind]++;
    this.lag.recordMs(lateMs);
    this.#series!.add('offered', at);
  }

  chunk(started: number, first: boolean): void {
    const t = now();
    if (first) this.ttfb.recordMs(t - started);
    this.chunks++;
    this.#series!.add('chunks', t);
  }

  settle(kind: WorkKind, started: number, err: unknown, isRefusal: boolean): void {
    const t = now();
    if (err === undefined) {
      this.completed++;
      this.total.recordMs(t - started);
      this.#series!.add('completed', t);
      if (kind === 'stream') this.streamsCompleted++;
    } else {
      const code = codeOf(err);
      this.errors[code] = (this.errors[code] ?? 0) + 1;
      if (isRefusal) this.refused++;
      else if (code === 'E_CANCELLED') this.cancelled++;
      else this.failed++;
      this.#series!.add('failed', t);
    }
    this.lastSettled = t;
  }

  /** Samples the executor's queue depth and running calls (once per progress tick). */
  sampleQueue(ex: Executor, at: number): void {
    this.#queue?.sample(at, { queued: ex.queued, running: ex.running });
  }

  /** The report's figures from this process's measurements, up to `end`. */
  figures(end: number) {
    return {
      calls: { offered: this.offered, completed: this.completed, failed: this.failed, cancelled: this.cancelled, refused: this.refused, byKind: this.byKind, errors: this.errors },
      latency: {
        queueWaitMs: roundedSummary(this.queueWait.summary()),
        runTimeMs: roundedSummary(this.runTime.summary()),
        totalMs: roundedSummary(this.total.summary()),
        ttfbMs: roundedSummary(this.ttfb.summary()),
        generatorLagMs: roundedSummary(this.lag.summary()),
        eventLoopDelayMs: this.#loopDelay.summary(),
      },
      streams: { completed: this.streamsCompleted, chunks: this.chunks },
      throughput: { bucketMs: this.#series!.bucketMs, series: this.#series!.points(end) },
      queue: { everyMs: this.#queue!.everyMs, samples: this.#queue!.points() },
      memory: this.#memory!.report(),
      distributions: { queueWaitMs: roundedBins(this.queueWait.bins()), ttfbMs: roundedBins(this.ttfb.bins()), totalMs: roundedBins(this.total.bins()) },
      admissions: this.admissions?.times(),
      saturated: this.saturation.intervals,
      saturatedTruncated: this.saturation.truncated,
      t0: this.#t0,
    };
  }
}
