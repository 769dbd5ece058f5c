import type { Bin, LatencySummary } from '../executor/latency-histogram.js';
import { checkExpectations } from './expectations.js';
import type { Fixture } from './fixture.js';
import type { GaugePoint } from './gauge-series.js';
import type { MemoryReport } from './memory-sampler.js';
import { rateAccuracy, type Interval } from './rate-accuracy.js';
import { REPORT_SCHEMA, type ProcessFigures, type SoakReport } from './report.js';
import { firstWindow, redactUrl, reportLimits } from './soak-common.js';
import type { SeriesPoint } from './time-series.js';
import type { Arrivals } from './upstream-thread.js';

/** What a runner measured; {@link buildReport} derives the rest and judges it. */
export interface Measured {
  fixture: Fixture;
  file: string;
  seed: number;
  /** The load's planned duration (ms), Infinity for a number of calls. */
  plannedMs: number;
  /** The embedded upstream's URL, or undefined with `--target`. */
  upstreamUrl: string | undefined;
  baseURL: string;
  t0: number;
  elapsedMs: number;
  loadMs: number;
  interrupted: boolean;
  executor: { pool: string; middleware: string[] };
  processes?: { count: number; perProcess: ProcessFigures[] };
  calls: Omit<SoakReport['calls'], 'errorRate'>;
  latency: SoakReport['latency'];
  streams: { completed: number; chunks: number };
  throughput: { bucketMs: number; series: SeriesPoint[] };
  queue: { everyMs: number; samples: GaugePoint[] };
  memory: MemoryReport;
  distributions: { queueWaitMs: Bin[]; ttfbMs: Bin[]; totalMs: Bin[] };
  middleware: SoakReport['middleware'];
  /** The upstream's arrival log (the independent observer), absent with `--target`. */
  arrivals: Arrivals | undefined;
  /** The executor's admission times, when a request limit is set. */
  admissions: Float64Array | undefined;
  /** When the head of the queue waited for request capacity. */
  saturated: readonly Interval[];
  saturatedTruncated: boolean;
  notes: string[];
}

/**
 * The one place a soak report is assembled, for the single-process and the multi-process
 * runner alike: rates, error rate, target, rate accuracy with its tolerance, notes, verdicts.
 */
export function buildReport(m: Measured): SoakReport {
  const { fixture } = m;
  const cfg = fixture.executor ?? {};
  const notes = [...m.notes];
  const seconds = Math.max(0.001, m.elapsedMs / 1000);
  const offered = m.calls.offered;
  if (m.interrupted) notes.push('the run was interrupted; figures cover the part that ran, and expectations that need the whole run are skipped');
  const rate = judgeRate(m, notes);
  if (m.arrivals !== undefined && m.arrivals.total > m.arrivals.capacity) notes.push(`the arrival log kept the newest ${m.arrivals.capacity} of ${m.arrivals.total} arrivals`);

  const figures: Omit<SoakReport, 'ok' | 'expectations'> = {
    schema: REPORT_SCHEMA,
    fixture: { name: fixture.name, description: fixture.description ?? null, file: m.file, seed: m.seed, durationS: Number.isFinite(m.plannedMs) ? m.plannedMs / 1000 : null, calls: fixture.load.calls ?? null },
    target: m.upstreamUrl !== undefined ? { kind: 'mock', url: m.upstreamUrl } : { kind: 'url', url: redactUrl(m.baseURL) },
    startedAt: new Date(performance.timeOrigin + m.t0).toISOString(),
    interrupted: m.interrupted,
    elapsedMs: Math.round(m.elapsedMs),
    loadMs: Math.round(m.loadMs),
    executor: { pool: m.executor.pool, concurrency: cfg.concurrency ?? 20, queueCapacity: cfg.queueCapacity ?? 1000, limits: reportLimits(cfg.limits), middleware: m.executor.middleware, guard: cfg.guard ?? null },
    ...(m.processes === undefined ? {} : { processes: m.processes }),
    calls: { ...m.calls, errorRate: offered === 0 ? 0 : round4((offered - m.calls.completed) / offered) },
    latency: m.latency,
    streams: { ...m.streams, chunksPerSec: round2(m.streams.chunks / seconds) },
    throughput: { completedPerSec: round2(m.calls.completed / seconds), ...m.throughput },
    queue: m.queue,
    rate,
    memory: m.memory,
    distributions: m.distributions,
    upstream: m.arrivals?.stats ?? null,
    middleware: m.middleware,
    notes,
  };
  const expectations = checkExpectations(fixture.expectations ?? {}, figures);
  return { ...figures, ok: expectations.every((e) => e.held !== false), expectations };
}

/**
 * Rate accuracy, judged from the upstream's arrival log when there is one: every arrival it saw,
 * the warm-up's (the cold start) included, since the provider counts those too. The tolerance is
 * the fixture's `rateToleranceMs` (every shipped fixture says 0: strict); without one it is the
 * machine's longest stall (of the main thread or the upstream's) plus the monitors' 10 ms resolution,
 * at most half a window.
 */
function judgeRate(m: Measured, notes: string[]): SoakReport['rate'] {
  const limits = m.fixture.executor?.limits;
  const window = firstWindow(limits?.requests);
  if (window === undefined) return null;
  if (Array.isArray(limits?.requests) && limits.requests.length > 1) notes.push('several request windows are configured; rate accuracy is reported for the first');
  // The observer's own lateness counts as much as the client's: a stalled upstream thread stamps late.
  const observerMs = m.arrivals?.loopDelayMaxMs;
  const stallMs = Math.ceil(Math.max(m.latency.eventLoopDelayMs.max, observerMs ?? 0) + 10);
  const stallToleranceMs = Math.min(window.windowMs / 2, Math.max(10, stallMs));
  const times = m.arrivals?.times ?? m.admissions ?? new Float64Array(0);
  const rate = rateAccuracy(times, {
    source: m.arrivals !== undefined ? 'upstream-arrivals' : 'client-admissions',
    limit: window.limit,
    windowMs: window.windowMs,
    toleranceMs: m.fixture.measure?.rateToleranceMs ?? stallToleranceMs,
    saturated: m.saturated,
    t0: m.t0,
    stallToleranceMs,
    observerDelayMs: observerMs === undefined ? null : Math.round(observerMs * 100) / 100,
    observerNice: m.arrivals?.nice ?? null,
    observerRealtime: m.arrivals?.realtime ?? null,
    observerIsolation: m.arrivals?.isolation ?? null,
    ...(m.admissions === undefined ? {} : { admissions: m.admissions }),
  });
  if (m.arrivals === undefined) notes.push("rate accuracy is measured from the client's admission times (no independent observer with --target)");
  if (m.saturatedTruncated) notes.push('saturation intervals exceeded their bound; utilisation covers the first ones only');
  return rate;
}

export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

export function roundedSummary(s: LatencySummary): LatencySummary {
  return { count: s.count, mean: round3(s.mean), p50: round3(s.p50), p90: round3(s.p90), p99: round3(s.p99), max: round3(s.max) };
}

/**
 * The histogram's bins with the empty ones between them put back (the bins are equal steps on a
 * log scale, so a gap is a run of empty bins), edges to four significant figures.
 */
export function roundedBins(bins: Bin[]): Bin[] {
  const full = bins.find((b) => b.fromMs > 0);
  const ratio = full === undefined ? 0 : full.toMs / full.fromMs;
  const out: Bin[] = [];
  bins.forEach((b, i) => {
    out.push(b);
    const next = bins[i + 1];
    if (next === undefined || !(ratio > 1)) return;
    for (let edge = b.toMs; next.fromMs / edge > Math.sqrt(ratio); edge *= ratio) out.push({ fromMs: edge, toMs: Math.min(edge * ratio, next.fromMs), count: 0 });
  });
  const sig = (v: number) => (v === 0 ? 0 : Number(v.toPrecision(4)));
  return out.map((b) => ({ fromMs: sig(b.fromMs), toMs: sig(b.toMs), count: b.count }));
}
