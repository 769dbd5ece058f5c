import type { MetricsSnapshot } from '../middleware/metrics.js';
import type { Bin, LatencySummary as Summary } from '../executor/latency-histogram.js';
import type { Expectations } from './fixture.js';
import type { WorkKind } from './load-generator.js';
import type { GaugePoint } from './gauge-series.js';
import type { MemoryReport } from './memory-sampler.js';
import type { MockUpstreamStats } from './mock-upstream.js';
import type { RateAccuracy } from './rate-accuracy.js';
import type { SeriesPoint } from './time-series.js';

export const REPORT_SCHEMA = 'callpool/soak-report@1';

export interface ExpectationResult {
  name: keyof Expectations;
  /** `max`: the actual figure must be at most `limit`; `min`: at least. */
  bound: 'max' | 'min';
  limit: number;
  /** null when the run could not measure it (then `held` is null too and `note` says why). */
  actual: number | null;
  held: boolean | null;
  /** How far past the limit the actual figure is (0 when it held). */
  by: number;
  unit: string;
  note?: string;
}

/** One process's own figures in a multi-process run. */
export interface ProcessFigures {
  index: number;
  calls: { offered: number; completed: number; failed: number; cancelled: number; refused: number };
  queueWaitP99Ms: number;
  runTimeP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** Most admissions by this process's executor in any rolling window (its share of the shared limit). */
  admissionsMaxInWindow: number | null;
  memory: Pick<MemoryReport, 'heapStartMb' | 'heapEndMb' | 'peakRssMb' | 'heapSlope'>;
  middleware: SoakReport['middleware'];
}

/** The JSON report of one soak run. The shape is stable; `schema` changes if it ever must. */
export interface SoakReport {
  schema: typeof REPORT_SCHEMA;
  /** Every expectation held (skipped ones do not count against it). */
  ok: boolean;
  fixture: { name: string; description: string | null; file: string; seed: number; durationS: number | null; calls: number | null };
  /** `mock`: the embedded upstream on loopback; `url`: a real endpoint given with `--target`. */
  target: { kind: 'mock' | 'url'; url: string };
  startedAt: string;
  /** Stopped early (Ctrl-C): the figures cover the part that ran; expectations that need the whole run are skipped. */
  interrupted: boolean;
  /** From the first call offered to the last one settled (ms). */
  elapsedMs: number;
  /** While the load was offering calls (ms). */
  loadMs: number;
  /** `guard`: the fixture's guard band (`'auto'` or ms; null: none). */
  executor: { pool: string; concurrency: number; queueCapacity: number; limits: unknown; middleware: string[]; guard: 'auto' | number | null };
  /** Present only when the fixture runs several processes (`executor` then describes each one's executor). */
  processes?: { count: number; perProcess: ProcessFigures[] };
  calls: {
    planned: number;
    offered: number;
    completed: number;
    /** Accepted but failed (error code in `errors`). */
    failed: number;
    cancelled: number;
    /** Refused at submit (queue full, over a whole window). */
    refused: number;
    /** Offered, by kind. */
    byKind: Record<WorkKind, number>;
    /** Every failure, refusal and cancellation by error code. */
    errors: Record<string, number>;
    /** (offered - completed) / offered. */
    errorRate: number;
  };
  latency: {
    /** Queued to admitted (the executor's `admitted` events). */
    queueWaitMs: Summary;
    /** Admitted to settled. */
    runTimeMs: Summary;
    /** Submit to result (calls) or to the last chunk (streams), as the caller saw it. */
    totalMs: Summary;
    /** Submit to the first chunk of a stream, as the consumer saw it. */
    ttfbMs: Summary;
    /** How late the load generator offered calls against its schedule (harness self-check). */
    generatorLagMs: Summary;
    /** The main thread's event-loop delay: how late a timer due every 10 ms ran (harness/loop-delay.ts); how busy the machine was. */
    eventLoopDelayMs: Summary;
  };
  streams: { completed: number; chunks: number; chunksPerSec: number };
  throughput: { completedPerSec: number; bucketMs: number; series: SeriesPoint[] };
  /** Queue depth and calls running, sampled over time (summed over processes). */
  queue: { everyMs: number; samples: GaugePoint[] };
  /** Request-rate accuracy; null when the fixture sets no request limit. */
  rate: RateAccuracy | null;
  memory: MemoryReport;
  distributions: { queueWaitMs: Bin[]; ttfbMs: Bin[]; totalMs: Bin[] };
  /** The embedded upstream's own counters (null with `--target`). */
  upstream: MockUpstreamStats | null;
  middleware: { metrics: MetricsSnapshot | null; hooks: { pre: number; post: number } | null };
  expectations: ExpectationResult[];
  notes: string[];
}

const num = (v: number | null, digits = 1): string => (v === null ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(digits));

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** The terminal summary: what ran, the figures, and each expectation with its verdict. */
export function summaryText(r: SoakReport): string {
  const c = r.calls;
  const l = r.latency;
  const lines: string[] = [];
  lines.push(
    `callpool soak: ${r.fixture.name} (${r.fixture.file}) against ${r.target.kind === 'mock' ? 'the embedded upstream' : r.target.url}${r.interrupted ? ` - INTERRUPTED after ${(r.elapsedMs / 1000).toFixed(1)} s` : ''}`,
  );
  lines.push(`pool ${r.executor.pool}, concurrency ${r.executor.concurrency}, queue ${r.executor.queueCapacity}, middleware [${r.executor.middleware.join(', ')}]`);
  if (r.processes !== undefined) {
    lines.push(
      `${r.processes.count} processes: ` +
        r.processes.perProcess.map((p) => `#${p.index} ${p.calls.completed}/${p.calls.offered} completed, heap ${p.memory.heapEndMb.toFixed(1)} MB, peak RSS ${p.memory.peakRssMb.toFixed(0)} MB`).join('; '),
    );
  }
  lines.push(
    `${c.offered} offered in ${(r.loadMs / 1000).toFixed(1)} s: ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.refused} refused` +
      (Object.keys(c.errors).length > 0 ? ` (${Object.entries(c.errors).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''),
  );
  lines.push('');
  const lat = (name: string, s: typeof l.queueWaitMs) => [name, String(s.count), num(s.p50, 2), num(s.p90, 2), num(s.p99, 2), num(s.max, 2)];
  lines.push(table([['latency (ms)', 'count', 'p50', 'p90', 'p99', 'max'], lat('queue wait', l.queueWaitMs), lat('run time', l.runTimeMs), lat('total', l.totalMs), lat('stream TTFB', l.ttfbMs), lat('generator lag', l.generatorLagMs), lat('event-loop delay', l.eventLoopDelayMs)]));
  lines.push('');
  lines.push(`throughput ${num(r.throughput.completedPerSec)} calls/s; streams ${r.streams.completed}, ${r.streams.chunks} chunks, ${num(r.streams.chunksPerSec)} chunks/s`);
  if (r.rate !== null) {
    const a = r.rate;
    lines.push(
      `rate limit ${a.limit}/${a.windowMs} ms${r.executor.guard === null ? '' : ` (guard ${r.executor.guard === 'auto' ? "'auto'" : `${r.executor.guard} ms`})`}, judged from ${a.source === 'upstream-arrivals' ? "the upstream's arrival log (warm-up included)" : "the client's admission times"}: ` +
        `max ${a.maxInWindow} in any window${a.toleranceMs === 0 ? ' (strict)' : `, ${a.maxInWindowTolerant} in windows ${a.toleranceMs} ms shorter`}, overshoot ${a.overshoot}` +
        `${a.admissionsMaxInWindow === null ? '' : `; the executor's own admissions: max ${a.admissionsMaxInWindow}`}`,
    );
    lines.push(
      `  jitter: ${a.stall.maxInWindow} in windows shortened by the longest stall + 10 ms (${a.stall.toleranceMs} ms${a.stall.observerDelayMs === null ? '' : `; the upstream ${a.stall.observerIsolation === 'process' ? 'process' : 'thread'}'s own: ${a.stall.observerDelayMs} ms${a.stall.observerNice === null ? '' : `, at nice ${a.stall.observerNice}`}${a.stall.observerRealtime === true ? ', real-time' : ''}`}); the arrivals fit the limit with windows ${a.jitterMsToFit} ms shorter; ` +
        `utilisation at saturation ${a.utilisation === null ? 'n/a (never saturated)' : `${(a.utilisation * 100).toFixed(1)}% over ${a.saturatedPairs} requests, ${(a.saturatedMs / 1000).toFixed(1)} s`}`,
    );
  }
  const m = r.memory;
  lines.push(
    `memory: heap after GC ${m.heapStartMb.toFixed(1)} -> ${m.heapEndMb.toFixed(1)} MB, slope over the second half ${num(m.heapSlope.mbPerMin, 2)} ± ${num(Number.isFinite(m.heapSlope.stderr) ? m.heapSlope.stderr : null, 2)} MB/min (${m.heapSlope.samples} samples); peak RSS ${m.peakRssMb.toFixed(0)} MB`,
  );
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push('');
  const rows = [['expectation', 'limit', 'actual', 'verdict']];
  for (const e of r.expectations) {
    const verdict = e.held === null ? `skipped: ${e.note ?? ''}` : e.held ? 'held' : `FAILED by ${num(e.by, 2)} ${e.unit}`;
    rows.push([e.name, `${e.bound === 'max' ? '<=' : '>='} ${num(e.limit, 2)} ${e.unit}`, e.actual === null ? 'n/a' : `${num(e.actual, 2)} ${e.unit}`, verdict]);
  }
  if (rows.length > 1) lines.push(table(rows));
  else lines.push('no expectations in this fixture');
  lines.push('');
  const failed = r.expectations.filter((e) => e.held === false).length;
  if (r.interrupted) {
    const judged = r.expectations.filter((e) => e.held !== null).length;
    const skipped = r.expectations.length - judged;
    lines.push(
      `result: interrupted after ${(r.elapsedMs / 1000).toFixed(1)} s; of the ${judged} expectation(s) it could judge, ${failed === 0 ? 'every one held' : `${failed} failed`}${skipped > 0 ? ` (${skipped} skipped)` : ''}`,
    );
  } else {
    lines.push(failed === 0 ? 'result: every expectation held' : `result: ${failed} expectation(s) failed`);
  }
  return lines.join('\n');
}
