import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { fromMachine, now } from '../core/clock.js';
import { ConfigError, deserializeError } from '../core/errors.js';
import { childExecArgv, fromSource } from '../core/source-mode.js';
import type { Bin, LatencySummary } from '../executor/latency-histogram.js';
import type { Fixture } from './fixture.js';
import type { GaugePoint } from './gauge-series.js';
import type { SeriesPoint } from './time-series.js';
import type { Interval } from './rate-accuracy.js';
import { buildReport } from './report-builder.js';
import type { ProcessFigures, SoakReport } from './report.js';
import { firstWindow, openUpstream } from './soak-common.js';
import type { FromChild, SoakJob, SoakOptions, SoakProgress, SoakRawMachine, ToChild } from './soak-types.js';
import type { Arrivals } from './upstream-thread.js';

interface Child {
  index: number;
  proc: ChildProcess;
  progress: SoakProgress | undefined;
  result: Promise<{ report: SoakReport; raw: SoakRawMachine }>;
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
  let results: { report: SoakReport; raw: SoakRawMachine }[];
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
  return { path: fileURLToPath(new URL(fromSource ? '../cli.ts' : '../cli.js', import.meta.url)), execArgv: childExecArgv() };
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
    plannedMs: ps[0]!.plannedMs,
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
  results: { report: SoakReport; raw: SoakRawMachine }[],
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
  // Each process ran against the shared upstream as a `--target`; the notes it wrote for that, and for being interrupted, are said once here.
  const own = (n: string) => !n.includes("client's admission times") && !n.startsWith('the run was interrupted');
  reports.forEach((r, i) => {
    for (const n of r.notes) if (own(n)) notes.push(`process ${i}: ${n}`);
  });
  const sum = (f: (r: SoakReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const errors: Record<string, number> = {};
  for (const r of reports) for (const [code, n] of Object.entries(r.calls.errors)) errors[code] = (errors[code] ?? 0) + n;
  const latency = (k: keyof SoakReport['latency']) => mergeSummaries(reports.map((r) => r.latency[k]));
  const cfg = fixture.executor ?? {};
  if (cfg.limits !== undefined && cfg.limits.store?.kind !== 'redis') {
    notes.push(`the limiter store is in memory, one per process: together the ${count} processes may reach ${count} times the limit`);
  }

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
  const requestLimit = firstWindow(cfg.limits?.requests) !== undefined;

  return buildReport({
    fixture,
    file: opts.file,
    seed,
    plannedMs: first.fixture.durationS === null ? Infinity : first.fixture.durationS * 1000,
    upstreamUrl,
    baseURL,
    t0,
    elapsedMs: Math.max(...reports.map((r) => r.elapsedMs)),
    loadMs: Math.max(...reports.map((r) => r.loadMs)),
    interrupted: opts.signal?.aborted === true || reports.some((r) => r.interrupted),
    executor: first.executor,
    processes: { count, perProcess },
    calls: {
      planned: sum((r) => r.calls.planned),
      offered: sum((r) => r.calls.offered),
      completed: sum((r) => r.calls.completed),
      failed: sum((r) => r.calls.failed),
      cancelled: sum((r) => r.calls.cancelled),
      refused: sum((r) => r.calls.refused),
      byKind: { call: sum((r) => r.calls.byKind.call), stream: sum((r) => r.calls.byKind.stream), embeddings: sum((r) => r.calls.byKind.embeddings) },
      errors,
    },
    latency: {
      queueWaitMs: latency('queueWaitMs'),
      runTimeMs: latency('runTimeMs'),
      totalMs: latency('totalMs'),
      ttfbMs: latency('ttfbMs'),
      generatorLagMs: latency('generatorLagMs'),
      eventLoopDelayMs: latency('eventLoopDelayMs'),
    },
    streams: { completed: sum((r) => r.streams.completed), chunks: sum((r) => r.streams.chunks) },
    throughput: { bucketMs: first.throughput.bucketMs, series: sumSeries(reports) },
    queue: { everyMs: Math.max(...reports.map((r) => r.queue.everyMs)), samples: sumGauges(reports) },
    memory: worst.memory,
    distributions: {
      queueWaitMs: mergeBins(reports.map((r) => r.distributions.queueWaitMs)),
      ttfbMs: mergeBins(reports.map((r) => r.distributions.ttfbMs)),
      totalMs: mergeBins(reports.map((r) => r.distributions.totalMs)),
    },
    // Metrics snapshots stay per process (under `processes`); hook counts add up.
    middleware: { metrics: null, hooks },
    arrivals,
    admissions: requestLimit ? sortedMachine(results.map((r) => r.raw.admissions ?? new Float64Array(0))) : undefined,
    saturated: union(results.flatMap((r) => r.raw.saturated.map((iv) => ({ start: fromMachine(iv.start), end: fromMachine(iv.end) })))),
    saturatedTruncated: false,
    notes,
  });
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

/** Queue depths sampled on the same ticks add up across processes (sample i of each, by index). */
function sumGauges(reports: SoakReport[]): GaugePoint[] {
  const longest = reports.reduce((a, r) => (r.queue.samples.length > a.queue.samples.length ? r : a));
  return longest.queue.samples.map((p, i) => {
    const out: GaugePoint = { ...p };
    for (const r of reports) {
      const q = r.queue.samples[i];
      if (r === longest || q === undefined || r.queue.everyMs !== longest.queue.everyMs) continue;
      for (const k of Object.keys(q)) if (k !== 'tMs') out[k] = (out[k] ?? 0) + q[k]!;
    }
    return out;
  });
}

function sortedMachine(lists: Float64Array[]): Float64Array {
  const all = new Float64Array(lists.reduce((a, l) => a + l.length, 0));
  let i = 0;
  for (const l of lists) for (const t of l) all[i++] = fromMachine(t);
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
