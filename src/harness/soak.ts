import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallContext } from '../core/call-context.js';
import { ConfigError } from '../core/errors.js';
import { now } from '../core/clock.js';
import type { CallContextOptions } from '../core/schemas.js';
import type { Service } from '../core/service.js';
import { Executor } from '../executor/executor.js';
import { openai } from '../services/openai.js';
import { ArrivalLog } from './arrival-log.js';
import { LatencyHistogram, type Bin, type LatencySummary } from '../executor/latency-histogram.js';
import { checkExpectations } from './expectations.js';
import type { Fixture } from './fixture.js';
import { fixtureMiddleware } from './fixture-middleware.js';
import { drive, LoadPlan, type WorkKind } from './load-generator.js';
import { MemorySampler } from './memory-sampler.js';
import { rateAccuracy, type Interval } from './rate-accuracy.js';
import { isRedisAvailable, REDIS_INSTALL_HINT, startRedis, type RedisServer } from './redis-server.js';
import { codeOf, firstWindow, openUpstream, redactUrl, reportLimits, SPAWN_REDIS } from './soak-common.js';
import { runProcesses } from './soak-processes.js';
import { REPORT_SCHEMA, type SoakReport } from './report.js';
import { SaturationTracker } from './saturation.js';
import { TimeSeries } from './time-series.js';
import type { Arrivals } from './upstream-thread.js';

export interface SoakOptions {
  fixture: Fixture;
  /** Where the fixture came from (for the report). */
  file: string;
  /** An OpenAI-compatible base URL to run against instead of the embedded upstream. */
  target?: string;
  /** API key for `target` (never written to a report). @default OPENAI_API_KEY */
  apiKey?: string;
  /** Model name for `target` (overrides the fixture's). */
  model?: string;
  /** Overrides the fixture's `load.durationS`. */
  durationS?: number;
  /** Overrides the fixture's `seed`. */
  seed?: number;
  /** Called about every `tickMs` with the run's live figures. */
  onProgress?: (p: SoakProgress) => void;
  tickMs?: number;
  /** Aborting stops offering calls; in-flight ones get a short drain, then are cancelled. */
  signal?: AbortSignal;
  /** Awaited once the workers are warm, just before the clock starts (lines several processes up). */
  beforeStart?: () => Promise<void>;
  /** Handed the run's raw timings when it ends (merged across processes by the caller). */
  onRaw?: (raw: SoakRaw) => void;
}

/** Timings on this thread's monotonic clock. */
export interface SoakRaw {
  t0: number;
  /** When the head of the queue waited for request capacity. */
  saturated: readonly Interval[];
  /** The executor's admissions, when a request limit is set. */
  admissions: Float64Array | undefined;
}

export interface SoakProgress {
  elapsedMs: number;
  /** Calls the plan will offer in all. */
  planned: number;
  offered: number;
  /** Settled: completed, failed, cancelled or refused. */
  done: number;
  /** Completed per second over the last tick. */
  ratePerSec: number;
  queueWaitP99Ms: number;
  queued: number;
  running: number;
  heapMb: number;
  rssMb: number;
}

const PROMPT_SEED = 'Summarise the rate limits of this service in one short paragraph. ';
const SERIES = ['offered', 'completed', 'failed', 'chunks'] as const;

/**
 * Runs a fixture end to end and returns its report (the caller prints and writes it): in this
 * process, or across `fixture.processes` OS processes. A Redis store whose url is `"spawn"`
 * gets a throwaway redis-server for the run.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const store = opts.fixture.executor?.limits?.store;
  let redis: RedisServer | undefined;
  let fixture = opts.fixture;
  if (store?.kind === 'redis' && store.url === SPAWN_REDIS) {
    if (!isRedisAvailable()) {
      throw new ConfigError('limiter store', [
        { path: '/executor/limits/store/url', rule: 'redis-server', message: `"${SPAWN_REDIS}" needs redis-server on the PATH; install it with: ${REDIS_INSTALL_HINT}` },
      ]);
    }
    redis = await startRedis();
    fixture = { ...fixture, executor: { ...fixture.executor, limits: { ...fixture.executor!.limits, store: { ...store, url: redis.url } } } };
  }
  try {
    const run = (fixture.processes ?? 1) > 1 ? runProcesses : runInProcess;
    const report = await run({ ...opts, fixture });
    if (redis !== undefined) report.notes.push(`the limiter store was a redis-server started for the run (${redis.url})`);
    return report;
  } finally {
    await redis?.stop();
  }
}

/** Runs a fixture in this process, whatever its `processes`. */
export async function runInProcess(opts: SoakOptions): Promise<SoakReport> {
  const { fixture } = opts;
  const seed = opts.seed ?? fixture.seed ?? 1;
  const load = fixture.load;
  const measure = fixture.measure ?? {};
  const notes: string[] = [];
  const plan = new LoadPlan(load, seed, opts.durationS);
  const planned = plan.expectedCalls();

  const { upstream, baseURL, apiKey } = await openUpstream(opts, fixture, seed);
  const model = opts.model ?? load.model ?? 'mock-model';
  const cfg = fixture.executor ?? {};
  let mw: ReturnType<typeof fixtureMiddleware>;
  let ex: Executor;
  let chat: Service;
  let embeddings: Service;
  try {
    const service = { baseURL, model, ...(apiKey === undefined ? {} : { apiKey }) };
    chat = openai.chat(service) as unknown as Service;
    embeddings = openai.embeddings(service) as unknown as Service;
    mw = fixtureMiddleware(cfg.middleware ?? [], seed, apiKey === undefined ? [] : [apiKey]);
    ex = new Executor({
      ...(cfg.queueCapacity === undefined ? {} : { queueCapacity: cfg.queueCapacity }),
      ...(cfg.concurrency === undefined ? {} : { concurrency: cfg.concurrency }),
      ...(cfg.limits === undefined ? {} : { limits: cfg.limits }),
      ...(cfg.pool === undefined ? {} : { pool: cfg.pool }),
      middleware: mw.middleware,
      historySize: 0,
    });
  } catch (err) {
    await upstream?.close();
    throw err;
  }
  const prompt = PROMPT_SEED.repeat(Math.ceil((load.promptChars ?? 64) / PROMPT_SEED.length)).slice(0, load.promptChars ?? 64);
  const chatRequest = { messages: [{ role: 'user', content: prompt }], max_tokens: load.maxTokens ?? 64 };
  const streamRequest = { ...chatRequest, stream: true };
  const embeddingsRequest = { input: prompt };
  const ctxOptions: CallContextOptions = { capabilities: ['net.out:*'], ...(load.timeoutMs === undefined ? {} : { timeoutMs: load.timeoutMs }) };

  // Figures: histograms and counters only, so the harness's memory stays flat however long it runs.
  const queueWait = new LatencyHistogram();
  const runTime = new LatencyHistogram();
  const total = new LatencyHistogram();
  const ttfb = new LatencyHistogram();
  const lag = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const byKind: Record<WorkKind, number> = { call: 0, stream: 0, embeddings: 0 };
  let offered = 0;
  let completed = 0;
  let failed = 0;
  let cancelled = 0;
  let refused = 0;
  let chunks = 0;
  let streamsCompleted = 0;
  let inFlight = 0;
  let loadDone = false;
  let lastSettled = 0;
  let drained: () => void = () => {};
  const allDrained = new Promise<void>((resolve) => (drained = resolve));

  const requestWindow = firstWindow(cfg.limits?.requests);
  if (cfg.limits?.requests !== undefined && Array.isArray(cfg.limits.requests) && cfg.limits.requests.length > 1) {
    notes.push('several request windows are configured; rate accuracy is reported for the first');
  }
  await warmUp(ex, load.mix ?? { call: 1 }, chat, embeddings, chatRequest, embeddingsRequest, cfg.pool?.threads ?? 2).catch((err: unknown) => {
    notes.push(`warm-up failed (${codeOf(err)}); the first calls include worker start-up`);
  });
  const saturation = new SaturationTracker();
  const admissions = requestWindow !== undefined ? new ArrivalLog(1 << 20) : undefined;
  ex.on('admitted', (e) => {
    queueWait.recordMs(e.queueWaitMs);
    saturation.admitted(e.at);
    admissions?.record(e.at, 'other');
  });
  ex.on('rateLimited', (e) => saturation.waiting(e.reason, now()));
  ex.on('settled', (e) => {
    if (e.runMs > 0) runTime.recordMs(e.runMs);
  });

  await opts.beforeStart?.();
  const t0 = now();
  const series = new TimeSeries(SERIES, t0, 250);
  const memory = new MemorySampler(t0, measure.memoryEveryMs ?? 500, now);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const settle = (kind: WorkKind, started: number, err: unknown, isRefusal: boolean) => {
    const t = now();
    if (err === undefined) {
      completed++;
      total.recordMs(t - started);
      series.add('completed', t);
      if (kind === 'stream') streamsCompleted++;
    } else {
      const code = codeOf(err);
      errors[code] = (errors[code] ?? 0) + 1;
      if (isRefusal) refused++;
      else if (code === 'E_CANCELLED') cancelled++;
      else failed++;
      series.add('failed', t);
    }
    lastSettled = t;
    if (--inFlight === 0 && loadDone) drained();
  };

  const consume = async (started: number, stream: AsyncIterable<unknown>) => {
    let first = true;
    for await (const _chunk of stream) {
      const t = now();
      if (first) {
        ttfb.recordMs(t - started);
        first = false;
      }
      chunks++;
      series.add('chunks', t);
      if (load.consumerDelayMs) await sleep(load.consumerDelayMs);
    }
  };

  const offer = (kind: WorkKind, lateMs: number) => {
    const started = now();
    offered++;
    byKind[kind]++;
    inFlight++;
    lag.recordMs(lateMs);
    series.add('offered', started);
    const ctx = CallContext.new('soak', ctxOptions);
    if (kind === 'stream') {
      let stream: AsyncIterable<unknown>;
      try {
        stream = ex.stream(chat, streamRequest, ctx);
      } catch (err) {
        settle(kind, started, err, true);
        return;
      }
      consume(started, stream).then(
        () => settle(kind, started, undefined, false),
        (err: unknown) => settle(kind, started, err, false),
      );
      return;
    }
    let call;
    try {
      call = ex.submit(kind === 'call' ? chat : embeddings, kind === 'call' ? chatRequest : embeddingsRequest, ctx);
    } catch (err) {
      settle(kind, started, err, true);
      return;
    }
    call.result().then(
      () => settle(kind, started, undefined, false),
      (err: unknown) => settle(kind, started, err, false),
    );
  };

  let lastCompleted = 0;
  let lastTick = t0;
  let rate: number | undefined;
  const tick = () => {
    const t = now();
    // Smoothed over about a second of ticks: a 250 ms count alone jumps in steps of 4/s.
    const instant = ((completed - lastCompleted) / Math.max(1, t - lastTick)) * 1000;
    rate = rate === undefined ? instant : rate * 0.75 + instant * 0.25;
    lastCompleted = completed;
    lastTick = t;
    const m = memory.last;
    opts.onProgress?.({
      elapsedMs: t - t0,
      planned,
      offered,
      done: completed + failed + cancelled + refused,
      ratePerSec: rate,
      queueWaitP99Ms: queueWait.percentile(99),
      queued: ex.queued,
      running: ex.running,
      heapMb: m?.heapMb ?? 0,
      rssMb: m?.rssMb ?? 0,
    });
  };
  const ticker = setInterval(tick, opts.tickMs ?? 250);
  ticker.unref();

  let loadMs = 0;
  let arrivals: Arrivals | undefined;
  try {
    memory.start();
    await drive(plan, now, offer, opts.signal);
    loadMs = now() - t0;
    loadDone = true;
    if (inFlight === 0) drained();
    const drainMs = opts.signal?.aborted ? 2000 : (measure.drainTimeoutMs ?? 30_000);
    const timedOut = await within(allDrained, drainMs);
    if (timedOut) {
      notes.push(`${inFlight} calls were still in flight ${drainMs} ms after the load stopped and were cancelled`);
      await ex.close({ drain: false });
      // Every accepted call settles on close; the bound only keeps a bug from hanging the run.
      if (await within(allDrained, 10_000)) notes.push(`${inFlight} calls never settled after the executor closed`);
    }
    if (opts.signal?.aborted) notes.push('the run was interrupted; figures cover the part that ran');
    memory.sample();
    arrivals = await upstream?.collect();
  } finally {
    clearInterval(ticker);
    memory.stop();
    loopDelay.disable();
    await ex.close({ drain: false });
    await upstream?.close();
  }
  tick();
  opts.onRaw?.({ t0, saturated: saturation.intervals, admissions: admissions?.times() });

  const end = Math.max(lastSettled, t0 + loadMs);
  const elapsedMs = end - t0;
  const seconds = Math.max(0.001, elapsedMs / 1000);
  // The longest the main thread could not run: an admission can reach the upstream that much late.
  const stallMs = loopDelay.count === 0 ? 0 : loopDelay.max / 1e6;
  let rateReport: SoakReport['rate'] = null;
  if (requestWindow !== undefined) {
    // Warm-up requests came before t0; only the load's own are judged.
    const times = (arrivals !== undefined ? arrivals.times : admissions!.times()).filter((t) => t >= t0);
    rateReport = rateAccuracy(times, {
      source: arrivals !== undefined ? 'upstream-arrivals' : 'client-admissions',
      limit: requestWindow.limit,
      windowMs: requestWindow.windowMs,
      toleranceMs: measure.rateToleranceMs ?? Math.min(requestWindow.windowMs / 2, Math.max(10, Math.ceil(stallMs))),
      saturated: saturation.intervals,
      t0,
      admissions: admissions!.times(),
    });
    if (upstream === undefined) notes.push('rate accuracy is measured from the client\'s admission times (no independent observer with --target)');
    if (saturation.truncated) notes.push('saturation intervals exceeded their bound; utilisation covers the first ones only');
  }
  if (arrivals !== undefined && arrivals.total > arrivals.capacity) {
    notes.push(`the arrival log kept the newest ${arrivals.capacity} of ${arrivals.total} arrivals`);
  }

  const figures: Omit<SoakReport, 'ok' | 'expectations'> = {
    schema: REPORT_SCHEMA,
    fixture: { name: fixture.name, description: fixture.description ?? null, file: opts.file, seed, durationS: Number.isFinite(plan.durationMs) ? plan.durationMs / 1000 : null, calls: load.calls ?? null },
    target: upstream !== undefined ? { kind: 'mock' as const, url: upstream.url } : { kind: 'url' as const, url: redactUrl(baseURL) },
    startedAt: new Date(performance.timeOrigin + t0).toISOString(),
    elapsedMs: Math.round(elapsedMs),
    loadMs: Math.round(loadMs),
    executor: {
      pool: ex.poolKind,
      concurrency: cfg.concurrency ?? 20,
      queueCapacity: cfg.queueCapacity ?? 1000,
      limits: reportLimits(cfg.limits),
      middleware: mw.middleware.map((m) => m.name),
    },
    calls: { planned, offered, completed, failed, cancelled, refused, byKind, errors, errorRate: offered === 0 ? 0 : Math.round(((offered - completed) / offered) * 10_000) / 10_000 },
    latency: { queueWaitMs: rounded(queueWait.summary()), runTimeMs: rounded(runTime.summary()), totalMs: rounded(total.summary()), ttfbMs: rounded(ttfb.summary()), generatorLagMs: rounded(lag.summary()), eventLoopDelayMs: loopDelaySummary(loopDelay) },
    streams: { completed: streamsCompleted, chunks, chunksPerSec: Math.round((chunks / seconds) * 100) / 100 },
    throughput: { completedPerSec: Math.round((completed / seconds) * 100) / 100, bucketMs: series.bucketMs, series: series.points(end) },
    rate: rateReport,
    memory: memory.report(),
    distributions: { queueWaitMs: roundedBins(queueWait.bins()), ttfbMs: roundedBins(ttfb.bins()), totalMs: roundedBins(total.bins()) },
    upstream: arrivals?.stats ?? null,
    middleware: { metrics: mw.metrics?.snapshot() ?? null, hooks: fixture.executor?.middleware?.some((m) => m.name === 'hooks') ? { ...mw.hookCalls } : null },
    notes,
  };
  const expectations = checkExpectations(fixture.expectations ?? {}, figures);
  return { ...figures, ok: expectations.every((e) => e.held !== false), expectations };
}

/**
 * Starts every worker and loads each handler the mix uses, before the clock starts: otherwise
 * the first calls would be admitted, then wait for threads to boot and reach the upstream in a
 * clump, which says something about start-up, not about the limiter or the steady state.
 */
async function warmUp(ex: Executor, mix: NonNullable<Fixture['load']['mix']>, chat: Service, embeddings: Service, chatRequest: unknown, embeddingsRequest: unknown, threads: number): Promise<void> {
  const n = Math.max(1, threads);
  const jobs: Promise<unknown>[] = [];
  const ctx = () => CallContext.new('soak-warm-up', { capabilities: ['net.out:*'], timeoutMs: 30_000 });
  for (let i = 0; i < n; i++) {
    if ((mix.call ?? 0) > 0 || (mix.stream ?? 0) > 0) jobs.push(ex.call(chat, chatRequest, ctx()));
    if ((mix.embeddings ?? 0) > 0) jobs.push(ex.call(embeddings, embeddingsRequest, ctx()));
  }
  await Promise.all(jobs);
}

function loopDelaySummary(h: ReturnType<typeof monitorEventLoopDelay>): SoakReport['latency']['eventLoopDelayMs'] {
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  if (h.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  return { count: h.count, mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

/** Resolves true when `p` did not settle within `ms`. */
async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
  const timedOut = await Promise.race([p.then(() => false), late]);
  clearTimeout(timer);
  return timedOut;
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function rounded(s: LatencySummary): LatencySummary {
  return { count: s.count, mean: round3(s.mean), p50: round3(s.p50), p90: round3(s.p90), p99: round3(s.p99), max: round3(s.max) };
}

function roundedBins(bins: Bin[]): Bin[] {
  return bins.map((b) => ({ fromMs: round3(b.fromMs), toMs: round3(b.toMs), count: b.count }));
}
