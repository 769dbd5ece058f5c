import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { fromEpoch, now } from '../core/clock.js';
import { ConfigError, deserializeError } from '../core/errors.js';
import type { Bin, LatencySummary } from '../executor/latency-histogram.js';
import { checkExpectations } from './expectations.js';
import type { Fixture } from './fixture.js';
import type { SeriesPoint } from './time-series.js';
import { rateAccuracy, type Interval } from './rate-accuracy.js';
import { REPORT_SCHEMA, type ProcessFigures, type SoakReport } from './report.js';
import type { FromChild, SoakJob, SoakRawEpoch, ToChild } from './soak-child.js';
import { firstWindow, openUpstream, redactUrl, reportLimits } from './soak-common.js';
import type { SoakOptions, SoakProgress } from './soak.js';
import type { Arrivals } from './upstream-thread.js';

interface Child {
  index: number;
  proc: ChildProcess;
  progress: SoakProgress | undefined;
  result: Promise<{ report: SoakReport; raw: SoakRawEpoch }>;
  ready: Promise<void>;
}

/**
 * Runs a fixture across `fixture.processes` OS processes (the CLI forked in its child mode),
 * each driving its share of the load through its own executor, against one upstream and the
 * fixture's limiter store. Rate accuracy is judged here, from the shared upstream's arrival
 * log; the rest of the figures are merged from the processes' reports.
 */
export async function runProcesses(opts: SoakOptions): Promise<SoakReport> {
  const { fixture } = opts;
  const count = fixture.processes ?? 1;
  const load = fixture.load;
  if (load.calls !== undefined && load.calls < count) {
    throw new ConfigError(`fixture ${opts.file}`, [{ path: '/load/calls', rule: 'minimum', message: `must be at least \`processes\` (${count})` }]);
  }
  const seed = opts.seed ?? fixture.seed ?? 1;
  const { upstream, baseURL, apiKey } = await openUpstream(opts, fixture, seed);

  const children: Child[] = [];
  const onAbort = () => children.forEach((c) => tell(c, { t: 'stop' }));
  opts.signal?.addEventListener('abort', onAbort);
  const ticker = setInterval(() => {
    const ps = children.map((c) => c.progress).filter((p) => p !== undefined);
    if (ps.length > 0) opts.onProgress?.(sumProgress(ps));
  }, opts.tickMs ?? 250);
  ticker.unref();
  let arrivals: Arrivals | undefined;
  let t0 = 0;
  let results: { report: SoakReport; raw: SoakRawEpoch }[];
  try {
    for (let index = 0; index < count; index++) {
      const job: SoakJob = {
        index,
        fixture: shareOf(fixture, index, count),
        file: opts.file,
        baseURL,
        seed: seed + index,
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(opts.model === undefined ? {} : { model: opts.model }),
        ...(opts.durationS === undefined ? {} : { durationS: opts.durationS }),
      };
      children.push(startChild(index, job));
    }
    // A failure anywhere fails the run; every process is stopped in `finally`.
    await Promise.race([Promise.all(children.map((c) => c.ready)), ...children.map((c) => c.result.then(() => new Promise<never>(() => {})))]);
    t0 = now();
    for (const c of children) tell(c, { t: 'go' });
    results = await Promise.all(children.map((c) => c.result));
    arrivals = await upstream?.collect();
  } finally {
    clearInterval(ticker);
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(children.map((c) => stopChild(c.proc)));
    await upstream?.close();
  }
  return merge(opts, fixture, seed, t0, results, arrivals, upstream?.url, baseURL);
}

/** The CLI entry: the TypeScript source runs with tsx, the build with plain node. */
function childEntry(): { path: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(fromSource ? '../cli.ts' : '../cli.js', import.meta.url));
  if (!fromSource) return { path, execArgv: [] };
  const execArgv = [...process.execArgv];
  if (!execArgv.some((a, i) => a === 'tsx' && (execArgv[i - 1] === '--import' || execArgv[i - 1] === '--loader'))) execArgv.push('--import', 'tsx');
  return { path, execArgv };
}

function startChild(index: number, job: SoakJob): Child {
  const entry = childEntry();
  const proc = fork(entry.path, ['soak-child'], { execArgv: entry.execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const child: Child = { index, proc, progress: undefined, result: undefined!, ready: undefined! };
  child.ready = new Promise((resolve) => {
    const onReady = (msg: FromChild) => {
      if (msg.t === 'ready') {
        proc.off('message', onReady);
        resolve();
      }
    };
    proc.on('message', onReady);
  });
  child.result = new Promise((resolve, reject) => {
    proc.on('message', (msg: FromChild) => {
      if (msg.t === 'progress') child.progress = msg.p;
      else if (msg.t === 'done') resolve({ report: msg.report, raw: msg.raw });
      else if (msg.t === 'error') reject(deserializeError(msg.error));
    });
    proc.once('error', reject);
    proc.once('exit', (code, signal) => reject(new Error(`soak process ${index} exited (${signal ?? code}) before it reported`)));
  });
  child.result.catch(() => {});
  tell(child, { t: 'job', job });
  return child;
}

function tell(c: Child, msg: ToChild): void {
  if (c.proc.connected) c.proc.send(msg);
}

/** Waits for a process to exit, killing it if it has not within 5 s of its report. */
async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  if (proc.connected) proc.disconnect();
  await exited;
  clearTimeout(timer);
}

/** Process `index`'s share of the load: rates, bursts and call counts divided as evenly as whole calls allow. */
export function shareOf(fixture: Fixture, index: number, count: number): Fixture {
  const part = (n: number) => Math.floor(n / count) + (index < n % count ? 1 : 0);
  const load = { ...fixture.load, rate: fixture.load.rate / count };
  if (load.ramp !== undefined) load.ramp = { ...load.ramp, toRate: load.ramp.toRate / count };
  if (load.calls !== undefined) load.calls = part(load.calls);
  if (load.bursts !== undefined) {
    const calls = part(load.bursts.calls);
    if (calls > 0) load.bursts = { ...load.bursts, calls };
    else delete load.bursts;
  }
  return { ...fixture, processes: 1, load };
}

function sumProgress(ps: SoakProgress[]): SoakProgress {
  const sum = (f: (p: SoakProgress) => number) => ps.reduce((a, p) => a + f(p), 0);
  const max = (f: (p: SoakProgress) => number) => Math.max(...ps.map(f));
  return {
    elapsedMs: max((p) => p.elapsedMs),
    planned: sum((p) => p.planned),
    offered: sum((p) => p.offered),
    done: sum((p) => p.done),
    ratePerSec: sum((p) => p.ratePerSec),
    queueWaitP99Ms: max((p) => p.queueWaitP99Ms),
    queued: sum((p) => p.queued),
    running: sum((p) => p.running),
    heapMb: sum((p) => p.heapMb),
    rssMb: sum((p) => p.rssMb),
  };
}

function merge(
  opts: SoakOptions,
  fixture: Fixture,
  seed: number,
  t0: number,
  results: { report: SoakReport; raw: SoakRawEpoch }[],
  arrivals: Arrivals | undefined,
  upstreamUrl: string | undefined,
  baseURL: string,
): SoakReport {
  const reports = results.map((r) => r.report);
  const first = reports[0]!;
  const count = reports.length;
  const notes: string[] = [
    `${count} processes, each with its own executor and ${fixture.load.rate / count} calls/s of the load; latency percentiles are the largest of the per-process ones (an upper bound for the whole run), counts are summed`,
  ];
  reports.forEach((r, i) => {
    for (const n of r.notes) if (!n.includes("client's admission times")) notes.push(`process ${i}: ${n}`);
  });
  const sum = (f: (r: SoakReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const calls = {
    planned: sum((r) => r.calls.planned),
    offered: sum((r) => r.calls.offered),
    completed: sum((r) => r.calls.completed),
    failed: sum((r) => r.calls.failed),
    cancelled: sum((r) => r.calls.cancelled),
    refused: sum((r) => r.calls.refused),
    byKind: { call: sum((r) => r.calls.byKind.call), stream: sum((r) => r.calls.byKind.stream), embeddings: sum((r) => r.calls.byKind.embeddings) },
    errors: {} as Record<string, number>,
    errorRate: 0,
  };
  for (const r of reports) for (const [code, n] of Object.entries(r.calls.errors)) calls.errors[code] = (calls.errors[code] ?? 0) + n;
  calls.errorRate = calls.offered === 0 ? 0 : Math.round(((calls.offered - calls.completed) / calls.offered) * 10_000) / 10_000;
  const elapsedMs = Math.max(...reports.map((r) => r.elapsedMs));
  const seconds = Math.max(0.001, elapsedMs / 1000);
  const chunks = sum((r) => r.streams.chunks);
  const latency = (k: keyof SoakReport['latency']) => mergeSummaries(reports.map((r) => r.latency[k]));

  const cfg = fixture.executor ?? {};
  if (cfg.limits !== undefined && cfg.limits.store?.kind !== 'redis') {
    notes.push(`the limiter store is in memory, one per process: together the ${count} processes may reach ${count} times the limit`);
  }
  const requestWindow = firstWindow(cfg.limits?.requests);
  let rate: SoakReport['rate'] = null;
  if (requestWindow !== undefined) {
    const admissions = sortedEpochs(results.map((r) => r.raw.admissions ?? new Float64Array(0)));
    const times = arrivals !== undefined ? arrivals.times.filter((t) => t >= t0) : admissions;
    // The longest stall of any process, plus the monitor's 10 ms resolution: an admission can
    // reach the upstream that much late, and a second hop (worker, upstream thread) adds a little.
    const stallMs = Math.max(...reports.map((r) => r.latency.eventLoopDelayMs.max)) + 10;
    rate = rateAccuracy(times, {
      source: arrivals !== undefined ? 'upstream-arrivals' : 'client-admissions',
      limit: requestWindow.limit,
      windowMs: requestWindow.windowMs,
      toleranceMs: fixture.measure?.rateToleranceMs ?? Math.min(requestWindow.windowMs / 2, Math.max(10, Math.ceil(stallMs))),
      saturated: union(results.flatMap((r) => r.raw.saturated.map((iv) => ({ start: fromEpoch(iv.start), end: fromEpoch(iv.end) })))),
      t0,
      admissions,
    });
    if (arrivals === undefined) notes.push("rate accuracy is measured from the processes' admission times (no independent observer with --target)");
  }
  if (arrivals !== undefined && arrivals.total > arrivals.capacity) notes.push(`the arrival log kept the newest ${arrivals.capacity} of ${arrivals.total} arrivals`);

  // Memory is per process: the report's own is the process whose heap grew fastest.
  const worst = reports.reduce((a, r) => (r.memory.heapSlope.mbPerMin > a.memory.heapSlope.mbPerMin ? r : a));
  notes.push(`memory is that of process ${reports.indexOf(worst)} (the steepest heap slope); every process's is under \`processes\``);
  const perProcess: ProcessFigures[] = reports.map((r, index) => ({
    index,
    calls: { offered: r.calls.offered, completed: r.calls.completed, failed: r.calls.failed, cancelled: r.calls.cancelled, refused: r.calls.refused },
    queueWaitP99Ms: r.latency.queueWaitMs.p99,
    runTimeP99Ms: r.latency.runTimeMs.p99,
    eventLoopDelayMaxMs: r.latency.eventLoopDelayMs.max,
    admissionsMaxInWindow: r.rate?.admissionsMaxInWindow ?? null,
    memory: { heapStartMb: r.memory.heapStartMb, heapEndMb: r.memory.heapEndMb, peakRssMb: r.memory.peakRssMb, heapSlope: r.memory.heapSlope },
    middleware: r.middleware,
  }));
  const hooks = reports.every((r) => r.middleware.hooks !== null)
    ? { pre: sum((r) => r.middleware.hooks!.pre), post: sum((r) => r.middleware.hooks!.post) }
    : null;

  const figures: Omit<SoakReport, 'ok' | 'expectations'> = {
    schema: REPORT_SCHEMA,
    fixture: { ...first.fixture, name: fixture.name, seed, calls: fixture.load.calls ?? null },
    target: upstreamUrl !== undefined ? { kind: 'mock', url: upstreamUrl } : { kind: 'url', url: redactUrl(baseURL) },
    startedAt: new Date(performance.timeOrigin + t0).toISOString(),
    elapsedMs,
    loadMs: Math.max(...reports.map((r) => r.loadMs)),
    executor: { ...first.executor, limits: reportLimits(opts.fixture.executor?.limits) },
    processes: { count, perProcess },
    calls,
    latency: {
      queueWaitMs: latency('queueWaitMs'),
      runTimeMs: latency('runTimeMs'),
      totalMs: latency('totalMs'),
      ttfbMs: latency('ttfbMs'),
      generatorLagMs: latency('generatorLagMs'),
      eventLoopDelayMs: latency('eventLoopDelayMs'),
    },
    streams: { completed: sum((r) => r.streams.completed), chunks, chunksPerSec: Math.round((chunks / seconds) * 100) / 100 },
    throughput: { completedPerSec: Math.round((calls.completed / seconds) * 100) / 100, bucketMs: first.throughput.bucketMs, series: sumSeries(reports) },
    rate,
    memory: worst.memory,
    distributions: {
      queueWaitMs: mergeBins(reports.map((r) => r.distributions.queueWaitMs)),
      ttfbMs: mergeBins(reports.map((r) => r.distributions.ttfbMs)),
      totalMs: mergeBins(reports.map((r) => r.distributions.totalMs)),
    },
    upstream: arrivals?.stats ?? null,
    // Metrics snapshots stay per process (under `processes`); hook counts add up.
    middleware: { metrics: null, hooks },
    notes,
  };
  const expectations = checkExpectations(fixture.expectations ?? {}, figures);
  return { ...figures, ok: expectations.every((e) => e.held !== false), expectations };
}

/** Counts summed, mean weighted; each percentile the largest of the processes' (an upper bound). */
function mergeSummaries(ss: LatencySummary[]): LatencySummary {
  const count = ss.reduce((a, s) => a + s.count, 0);
  const max = (f: (s: LatencySummary) => number) => Math.max(0, ...ss.filter((s) => s.count > 0).map(f));
  const mean = count === 0 ? 0 : Math.round((ss.reduce((a, s) => a + s.mean * s.count, 0) / count) * 1000) / 1000;
  return { count, mean, p50: max((s) => s.p50), p90: max((s) => s.p90), p99: max((s) => s.p99), max: max((s) => s.max) };
}

/** The histograms share one bucket layout, so their bins add up exactly. */
function mergeBins(lists: Bin[][]): Bin[] {
  const byEdge = new Map<string, Bin>();
  for (const bins of lists) {
    for (const b of bins) {
      const key = `${b.fromMs}:${b.toMs}`;
      const seen = byEdge.get(key);
      if (seen !== undefined) seen.count += b.count;
      else byEdge.set(key, { ...b });
    }
  }
  return [...byEdge.values()].sort((a, b) => a.fromMs - b.fromMs);
}

/** Per-second rates per bucket add up across processes (their clocks started together). */
function sumSeries(reports: SoakReport[]): SeriesPoint[] {
  const longest = reports.reduce((a, r) => (r.throughput.series.length > a.throughput.series.length ? r : a));
  return longest.throughput.series.map((p, i) => {
    const out: SeriesPoint = { ...p };
    for (const r of reports) {
      if (r === longest || r.throughput.bucketMs !== longest.throughput.bucketMs) continue;
      const q = r.throughput.series[i];
      if (q === undefined) continue;
      for (const k of Object.keys(q)) if (k !== 'tMs') out[k] = (out[k] ?? 0) + q[k]!;
    }
    return out;
  });
}

function sortedEpochs(lists: Float64Array[]): Float64Array {
  const all = new Float64Array(lists.reduce((a, l) => a + l.length, 0));
  let i = 0;
  for (const l of lists) for (const t of l) all[i++] = fromEpoch(t);
  return all.sort();
}

/** Saturated while any process waited for request capacity: the intervals' union, in order. */
function union(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && iv.start <= last.end) last.end = Math.max(last.end, iv.end);
    else out.push({ ...iv });
  }
  return out;
}
