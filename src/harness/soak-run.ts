import { setTimeout as sleep } from 'node:timers/promises';
import { CallContext } from '../core/call-context.js';
import { now } from '../core/clock.js';
import type { CallContextOptions } from '../core/schemas.js';
import type { Service } from '../core/service.js';
import { Executor } from '../executor/executor.js';
import { openai } from '../services/openai.js';
import type { Fixture } from './fixture.js';
import { fixtureMiddleware } from './fixture-middleware.js';
import { drive, LoadPlan, type WorkKind } from './load-generator.js';
import { buildReport } from './report-builder.js';
import type { SoakReport } from './report.js';
import { Recorder } from './soak-recorder.js';
import { codeOf, firstWindow, openUpstream } from './soak-common.js';
import type { SoakOptions } from './soak-types.js';
import type { Arrivals, UpstreamThread } from './upstream-thread.js';

const PROMPT_SEED = 'Summarise the rate limits of this service in one short paragraph. ';

/** The requests the load sends, built once from the fixture. */
interface Work {
  chat: Service;
  embeddings: Service;
  chatRequest: unknown;
  streamRequest: unknown;
  embeddingsRequest: unknown;
  ctxOptions: CallContextOptions;
}

interface Setup {
  upstream: UpstreamThread | undefined;
  baseURL: string;
  ex: Executor;
  mw: ReturnType<typeof fixtureMiddleware>;
  work: Work;
}

/** Counts calls in flight, so the runner knows when the last one after the load has settled. */
class InFlight {
  #n = 0;
  #loadDone = false;
  #drained: () => void = () => {};
  readonly drained = new Promise<void>((resolve) => (this.#drained = resolve));

  get count(): number {
    return this.#n;
  }

  started(): void {
    this.#n++;
  }

  settled(): void {
    if (--this.#n === 0 && this.#loadDone) this.#drained();
  }

  loadDone(): void {
    this.#loadDone = true;
    if (this.#n === 0) this.#drained();
  }
}

/** Runs a fixture in this process, whatever its `processes`. */
export async function runInProcess(opts: SoakOptions): Promise<SoakReport> {
  const { fixture } = opts;
  const seed = opts.seed ?? fixture.seed ?? 1;
  const measure = fixture.measure ?? {};
  const tickMs = opts.tickMs ?? 250;
  const notes: string[] = [];
  const plan = new LoadPlan(fixture.load, seed, opts.durationS);
  const planned = plan.expectedCalls();
  const { upstream, baseURL, ex, mw, work } = await setUp(opts, fixture, seed);

  await warmUp(ex, work, fixture).catch((err: unknown) => {
    notes.push(`warm-up failed (${codeOf(err)}); the first calls include worker start-up`);
  });
  const rec = new Recorder(firstWindow(fixture.executor?.limits?.requests) !== undefined);
  rec.attach(ex);

  await opts.beforeStart?.();
  const t0 = now();
  rec.start(t0, measure.memoryEveryMs ?? 500, tickMs);
  const inFlight = new InFlight();
  const offer = offerer(ex, work, rec, inFlight, fixture.load.consumerDelayMs ?? 0);
  const tick = progressTicker(opts, ex, rec, t0, planned, Number.isFinite(plan.durationMs) ? plan.durationMs : null);
  const ticker = setInterval(tick, tickMs);
  ticker.unref();

  let loadMs = 0;
  let arrivals: Arrivals | undefined;
  try {
    await drive(plan, now, offer, opts.signal);
    loadMs = now() - t0;
    inFlight.loadDone();
    await drain(ex, inFlight, opts.signal?.aborted === true ? 2000 : (measure.drainTimeoutMs ?? 30_000), notes);
    rec.memory.sample();
    arrivals = await upstream?.collect();
  } finally {
    clearInterval(ticker);
    rec.stop();
    await ex.close({ drain: false });
    await upstream?.close();
  }
  tick();
  const end = Math.max(rec.lastSettled, t0 + loadMs);
  const f = rec.figures(end);
  opts.onRaw?.({ t0, saturated: f.saturated, admissions: f.admissions });
  return buildReport({
    ...f,
    fixture,
    file: opts.file,
    seed,
    plannedMs: plan.durationMs,
    upstreamUrl: upstream?.url,
    baseURL,
    elapsedMs: end - t0,
    loadMs,
    interrupted: opts.signal?.aborted === true,
    executor: { pool: ex.poolKind, middleware: mw.middleware.map((m) => m.name) },
    calls: { planned, ...f.calls },
    middleware: { metrics: mw.metrics?.snapshot() ?? null, hooks: fixture.executor?.middleware?.some((m) => m.name === 'hooks') ? { ...mw.hookCalls } : null },
    arrivals,
    notes,
  });
}

/** The upstream (embedded or `--target`), the executor the fixture describes, and the requests to send. */
async function setUp(opts: SoakOptions, fixture: Fixture, seed: number): Promise<Setup> {
  const load = fixture.load;
  const { upstream, baseURL, apiKey } = await openUpstream(opts, fixture, seed);
  const cfg = fixture.executor ?? {};
  try {
    const service = { baseURL, model: opts.model ?? load.model ?? 'mock-model', ...(apiKey === undefined ? {} : { apiKey }) };
    const mw = fixtureMiddleware(cfg.middleware ?? [], seed, apiKey === undefined ? [] : [apiKey]);
    const ex = new Executor({
      ...(cfg.queueCapacity === undefined ? {} : { queueCapacity: cfg.queueCapacity }),
      ...(cfg.concurrency === undefined ? {} : { concurrency: cfg.concurrency }),
      ...(cfg.limits === undefined ? {} : { limits: cfg.limits }),
      ...(cfg.pool === undefined ? {} : { pool: cfg.pool }),
      ...(cfg.guard === undefined ? {} : { guard: cfg.guard }),
      middleware: mw.middleware,
      historySize: 0,
    });
    const promptChars = load.promptChars ?? 64;
    const prompt = PROMPT_SEED.repeat(Math.ceil(promptChars / PROMPT_SEED.length)).slice(0, promptChars);
    const chatRequest = { messages: [{ role: 'user', content: prompt }], max_tokens: load.maxTokens ?? 64 };
    const work: Work = {
      chat: openai.chat(service) as unknown as Service,
      embeddings: openai.embeddings(service) as unknown as Service,
      chatRequest,
      streamRequest: { ...chatRequest, stream: true },
      embeddingsRequest: { input: prompt },
      ctxOptions: { capabilities: ['net.out:*'], ...(load.timeoutMs === undefined ? {} : { timeoutMs: load.timeoutMs }) },
    };
    return { upstream, baseURL, ex, mw, work };
  } catch (err) {
    await upstream?.close();
    throw err;
  }
}

/**
 * Starts every worker and loads each handler the mix uses, before the clock starts: otherwise
 * the first calls would be admitted, then wait for threads to boot and reach the upstream in a
 * clump, which says something about start-up, not about the limiter or the steady state.
 * Every warm-up call has settled when this returns, failed or not: the run's listeners attach
 * after it, and a warm-up call still running then would be counted as the run's.
 */
export async function warmUp(ex: Executor, work: Pick<Work, 'chat' | 'embeddings' | 'chatRequest' | 'embeddingsRequest'>, fixture: Fixture): Promise<void> {
  const mix = fixture.load.mix ?? { call: 1 };
  const n = Math.max(1, fixture.executor?.pool?.threads ?? 2);
  const jobs: Promise<unknown>[] = [];
  const ctx = () => CallContext.new('soak-warm-up', { capabilities: ['net.out:*'], timeoutMs: 30_000 });
  for (let i = 0; i < n; i++) {
    if ((mix.call ?? 0) > 0 || (mix.stream ?? 0) > 0) jobs.push(ex.call(work.chat, work.chatRequest, ctx()));
    if ((mix.embeddings ?? 0) > 0) jobs.push(ex.call(work.embeddings, work.embeddingsRequest, ctx()));
  }
  const failed = (await Promise.allSettled(jobs)).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** The load generator's callback: submits one call or stream and records how it ends. */
function offerer(ex: Executor, work: Work, rec: Recorder, inFlight: InFlight, consumerDelayMs: number): (kind: WorkKind, lateMs: number) => void {
  const settle = (kind: WorkKind, started: number, err: unknown, isRefusal: boolean) => {
    rec.settle(kind, started, err, isRefusal);
    inFlight.settled();
  };
  const consume = async (started: number, stream: AsyncIterable<unknown>) => {
    let first = true;
    for await (const _chunk of stream) {
      rec.chunk(started, first);
      first = false;
      if (consumerDelayMs > 0) await sleep(consumerDelayMs);
    }
  };
  return (kind, lateMs) => {
    const started = now();
    rec.offer(kind, started, lateMs);
    inFlight.started();
    const ctx = CallContext.new('soak', work.ctxOptions);
    let done: Promise<unknown>;
    try {
      done =
        kind === 'stream'
          ? consume(started, ex.stream(work.chat, work.streamRequest, ctx))
          : ex.submit(kind === 'call' ? work.chat : work.embeddings, kind === 'call' ? work.chatRequest : work.embeddingsRequest, ctx).result();
    } catch (err) {
      settle(kind, started, err, true);
      return;
    }
    done.then(
      () => settle(kind, started, undefined, false),
      (err: unknown) => settle(kind, started, err, false),
    );
  };
}

/** A function that samples the queue and reports live figures (called every tick and once at the end). */
function progressTicker(opts: SoakOptions, ex: Executor, rec: Recorder, t0: number, planned: number, plannedMs: number | null): () => void {
  let lastCompleted = 0;
  let lastTick = t0;
  let rate: number | undefined;
  return () => {
    const t = now();
    // Smoothed over about a second of ticks: a 250 ms count alone jumps in steps of 4/s.
    const instant = ((rec.completed - lastCompleted) / Math.max(1, t - lastTick)) * 1000;
    rate = rate === undefined ? instant : rate * 0.75 + instant * 0.25;
    lastCompleted = rec.completed;
    lastTick = t;
    rec.sampleQueue(ex, t);
    const m = rec.memory.last;
    opts.onProgress?.({
      elapsedMs: t - t0,
      planned,
      plannedMs,
      offered: rec.offered,
      done: rec.done,
      ratePerSec: rate,
      queueWaitP99Ms: rec.queueWait.percentile(99),
      queued: ex.queued,
      running: ex.running,
      heapMb: m?.heapMb ?? 0,
      rssMb: m?.rssMb ?? 0,
    });
  };
}

/** Waits for the calls still in flight after the load; past `drainMs` they are cancelled. */
async function drain(ex: Executor, inFlight: InFlight, drainMs: number, notes: string[]): Promise<void> {
  if (!(await within(inFlight.drained, drainMs))) return;
  notes.push(`${inFlight.count} calls were still in flight ${drainMs} ms after the load stopped and were cancelled`);
  await ex.close({ drain: false });
  // Every accepted call settles on close; the bound only keeps a bug from hanging the run.
  if (await within(inFlight.drained, 10_000)) notes.push(`${inFlight.count} calls never settled after the executor closed`);
}

/** Resolves true when `p` did not settle within `ms`. */
async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
  const timedOut = await Promise.race([p.then(() => false), late]);
  clearTimeout(timer);
  return timedOut;
}
