/**
 * The executor against the usual alternatives, side by side in one run: no-op throughput
 * (inline pool) vs p-queue and Bottleneck at the same concurrency; how fast a freed slot or
 * freed rate capacity admits the next call; rate-limit overshoot and utilisation in burst,
 * steady and straddling patterns vs p-queue's strict interval mode; heap growth per 200k calls.
 */
import PQueue from 'p-queue';
import Bottleneck from 'bottleneck';
import { CallContext, Executor, defineService } from '../../src/index.js';
import { gate } from '../helpers/services.js';
import { rateAccuracy, type Admission } from '../helpers/rate-metrics.js';
import { heapAfterGc } from '../helpers/measure.js';
import { median, result, runStandalone, type BenchResult } from './types.js';

const RUNS = 5;
const N = 100_000;
const CONCURRENCY = 20;
// A handler that never reads its signal, declared so (`abortable: false`): no AbortSignal per call.
const noop = defineService({ name: 'noop', handler: { call: () => undefined }, abortable: false });
const ctx = CallContext.new('bench');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const s = performance.now();
  await fn();
  return N / ((performance.now() - s) / 1000);
}

const executorRun = async () => {
  const ex = new Executor({ concurrency: CONCURRENCY, queueCapacity: N, pool: { kind: 'inline' } });
  const r = await timeIt(() => {
    const ps = new Array<Promise<unknown>>(N);
    for (let i = 0; i < N; i++) ps[i] = ex.call(noop, i, ctx);
    return Promise.all(ps);
  });
  await ex.close();
  return r;
};

const pQueueRun = async () => {
  const q = new PQueue({ concurrency: CONCURRENCY });
  return timeIt(() => {
    const ps = new Array<Promise<unknown>>(N);
    for (let i = 0; i < N; i++) ps[i] = q.add(async () => undefined);
    return Promise.all(ps);
  });
};

/**
 * Per-call cost as users write calls: a fresh CallContext per call and a handler that takes
 * its abort signal (so each call has a real AbortSignal), against p-queue given a per-call
 * AbortController (the same capability: every task abortable).
 */
const withSignal = defineService({ name: 'noop-signal', handler: { call: (_req: unknown, _ctx: unknown, signal: AbortSignal) => (signal.aborted ? 1 : undefined) } });

const executorUserRun = async () => {
  const ex = new Executor({ concurrency: CONCURRENCY, queueCapacity: N, pool: { kind: 'inline' } });
  const r = await timeIt(() => {
    const ps = new Array<Promise<unknown>>(N);
    for (let i = 0; i < N; i++) ps[i] = ex.call(withSignal, i, CallContext.new('bench'));
    return Promise.all(ps);
  });
  await ex.close();
  return r;
};

const pQueueSignalRun = async () => {
  const q = new PQueue({ concurrency: CONCURRENCY });
  return timeIt(() => {
    const ps = new Array<Promise<unknown>>(N);
    for (let i = 0; i < N; i++) {
      const ac = new AbortController();
      ps[i] = q.add(async ({ signal }) => (signal?.aborted ? 1 : undefined), { signal: ac.signal });
    }
    return Promise.all(ps);
  });
};

const bottleneckRun = async () => {
  const b = new Bottleneck({ maxConcurrent: CONCURRENCY });
  const n = 1000; // Bottleneck paces jobs through timers (a few hundred a second here): keep its run short.
  const s = performance.now();
  const ps = new Array<Promise<unknown>>(n);
  for (let i = 0; i < n; i++) ps[i] = b.schedule(async () => undefined);
  await Promise.all(ps);
  const r = n / ((performance.now() - s) / 1000);
  await b.stop({ dropWaitingJobs: false });
  return r;
};

async function throughput(): Promise<BenchResult[]> {
  const ex: number[] = [];
  const pq: number[] = [];
  const bn: number[] = [];
  const ratio: number[] = [];
  const exUser: number[] = [];
  const pqSignal: number[] = [];
  const ratioUser: number[] = [];
  await executorRun();
  await pQueueRun();
  await executorUserRun();
  await pQueueSignalRun();
  for (let r = 0; r < RUNS; r++) {
    await heapAfterGc();
    const a = await executorRun();
    await heapAfterGc();
    const b = await pQueueRun();
    await heapAfterGc();
    bn.push(await bottleneckRun());
    ex.push(a);
    pq.push(b);
    ratio.push(a / b);
    await heapAfterGc();
    const c = await executorUserRun();
    await heapAfterGc();
    const d = await pQueueSignalRun();
    exUser.push(c);
    pqSignal.push(d);
    ratioUser.push(c / d);
  }
  return [
    result('no-op throughput, executor (inline)', 'calls/s', ex, `concurrency ${CONCURRENCY}, ${N} calls`),
    result('no-op throughput, p-queue', 'calls/s', pq),
    result('no-op throughput, Bottleneck', 'calls/s', bn, '1000 calls'),
    result('executor / p-queue throughput', 'x', ratio, 'target >= 1.5'),
    result('no-op throughput, executor, fresh CallContext + signal-taking handler', 'calls/s', exUser, `as users write calls; concurrency ${CONCURRENCY}, ${N} calls`),
    result('no-op throughput, p-queue, per-call AbortController', 'calls/s', pqSignal),
    result('executor / p-queue throughput, fresh context + signal', 'x', ratioUser, 'target >= 1.5'),
  ];
}

async function slotWakeUp(): Promise<BenchResult[]> {
  const p50: number[] = [];
  const p99: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const g = gate();
    const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' } });
    const admitted = new Map<string, number>();
    ex.on('admitted', (e) => admitted.set(e.callId, e.at));
    const calls = Array.from({ length: 1000 }, (_, id) => ex.submit(g.service, { id }, CallContext.new('b')));
    const delays: number[] = [];
    for (let id = 0; id < calls.length; id++) {
      const freed = performance.now();
      g.resolve(id);
      await calls[id]!.result();
      const next = calls[id + 1];
      if (next) delays.push((admitted.get(next.id)! - freed) * 1000);
    }
    delays.sort((a, b) => a - b);
    p50.push(delays[Math.floor(delays.length * 0.5)]!);
    p99.push(delays[Math.floor(delays.length * 0.99)]!);
    await ex.close();
  }
  return [result('slot freed -> next admitted, p50', 'µs', p50), result('slot freed -> next admitted, p99', 'µs', p99)];
}

type Pattern = 'burst' | 'steady' | 'straddle';
const LIMIT = 20;
const WINDOW = 100;

/** Submits the pattern's load through `submit(k)`; resolves when all is submitted. */
async function drive(pattern: Pattern, submit: (k: number) => void): Promise<void> {
  if (pattern === 'burst') submit(LIMIT * 10);
  else if (pattern === 'steady') {
    for (let i = 0; i < 20; i++) {
      submit(Math.round((LIMIT * 1.5 * 50) / WINDOW));
      await sleep(50);
    }
  } else {
    for (let w = 0; w < 8; w++) {
      await sleep(WINDOW - 5);
      submit(LIMIT / 2);
      await sleep(10);
      submit(LIMIT / 2 + 2);
    }
  }
}

/** A no-op that notes when it started: its send instant, where the limiter places its slot. */
const startedAt = new Map<number, number>();
const noted = defineService({ name: 'noted', handler: { call: (seq: number) => void startedAt.set(seq, performance.now()) }, abortable: false });

async function executorPattern(pattern: Pattern) {
  const ex = new Executor({ concurrency: 1000, queueCapacity: 10_000, limits: { requests: { limit: LIMIT, windowMs: WINDOW } }, pool: { kind: 'inline' } });
  const admitted = new Map<string, { at: number; queuedAt: number }>();
  ex.on('admitted', (e) => admitted.set(e.callId, { at: e.at, queuedAt: e.at - e.queueWaitMs }));
  const seqOf = new Map<string, number>();
  const calls: Promise<unknown>[] = [];
  startedAt.clear();
  await drive(pattern, (k) => {
    for (let i = 0; i < k; i++) {
      // A context each: call ids come from the context, and they key the admissions here.
      const call = ex.submit(noted, seqOf.size, CallContext.new('bench'));
      seqOf.set(call.id, seqOf.size);
      calls.push(call.result());
    }
  });
  await Promise.all(calls);
  await ex.close();
  const adm: Admission[] = [...admitted].map(([id, a]) => ({ ...a, sentAt: startedAt.get(seqOf.get(id)!) }));
  return rateAccuracy(adm, LIMIT, WINDOW);
}

async function pQueuePattern(pattern: Pattern) {
  const q = new PQueue({ concurrency: 1000, intervalCap: LIMIT, interval: WINDOW, strict: true });
  const adm: Admission[] = [];
  const calls: Promise<unknown>[] = [];
  await drive(pattern, (k) => {
    for (let i = 0; i < k; i++) {
      const queuedAt = performance.now();
      calls.push(q.add(async () => void adm.push({ at: performance.now(), queuedAt })));
    }
  });
  await Promise.all(calls);
  return rateAccuracy(adm, LIMIT, WINDOW);
}

/**
 * The machine's own floor for wake-ups: a bare `setImmediate` loop, timing each turn. Gaps of
 * a millisecond or more here are the OS or hypervisor taking the CPU away; no scheduler in
 * this process can wake on time through them.
 */
async function stallBaseline(ms: number): Promise<{ perSecond: number; p99: number }> {
  const gaps: number[] = [];
  let last = performance.now();
  const end = last + ms;
  await new Promise<void>((resolve) => {
    const turn = () => {
      const t = performance.now();
      gaps.push(t - last);
      last = t;
      if (t < end) setImmediate(turn);
      else resolve();
    };
    setImmediate(turn);
  });
  gaps.sort((a, b) => a - b);
  return { perSecond: gaps.filter((g) => g >= 1).length / (ms / 1000), p99: gaps[Math.floor(gaps.length * 0.99)]! * 1000 };
}

async function rateAccuracyBench(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const lateP50: number[] = [];
  const lateP99: number[] = [];
  const stalls: number[] = [];
  for (const pattern of ['burst', 'steady', 'straddle'] as Pattern[]) {
    const exOver: number[] = [];
    const exUtil: number[] = [];
    const pqOver: number[] = [];
    const pqUtil: number[] = [];
    for (let r = 0; r < 3; r++) {
      await heapAfterGc();
      const a = await executorPattern(pattern);
      exOver.push(Math.max(0, a.maxInWindow - LIMIT));
      exUtil.push(a.utilisation * 100);
      const late = a.lateness.map((ms) => ms * 1000).sort((x, y) => x - y);
      lateP50.push(late[Math.floor(late.length * 0.5)]!);
      lateP99.push(late[Math.floor(late.length * 0.99)]!);
      const b = await pQueuePattern(pattern);
      pqOver.push(Math.max(0, b.maxInWindow - LIMIT));
      pqUtil.push(b.utilisation * 100);
      stalls.push((await stallBaseline(500)).perSecond);
    }
    out.push(
      result(`rate ${pattern}: executor overshoot`, 'calls', exOver, `${LIMIT}/${WINDOW} ms; target 0`),
      result(`rate ${pattern}: executor utilisation`, '%', exUtil, 'target >= 98'),
      result(`rate ${pattern}: p-queue strict overshoot`, 'calls', pqOver),
      result(`rate ${pattern}: p-queue strict utilisation`, '%', pqUtil),
    );
  }
  out.push(
    result('rate capacity freed -> admitted, p50', 'µs', lateP50, 'per run (3 patterns x 3), saturated admissions'),
    result('rate capacity freed -> admitted, p99', 'µs', lateP99, 'per run; target < 1000', machineBound(stalls)),
    result('event-loop stalls >= 1 ms (bare setImmediate loop)', '/s', stalls, 'the machine: no wake-up beats these', { better: 'lower' }),
  );
  return out;
}

/**
 * Once a bare event loop in the same run stalls for a millisecond or more at least once a second,
 * the slowest 1% of wake-ups can land on those stalls: the p99 is then the machine's, said with its count.
 */
function machineBound(stalls: number[]): { machineBound?: string } {
  const perSecond = median(stalls);
  if (perSecond < 1) return {};
  return { machineBound: `a bare setImmediate loop in this run stalled >= 1 ms ${perSecond.toFixed(1)} times/s; the p99 follows those stalls` };
}

async function heapPer200k(): Promise<BenchResult[]> {
  const growth: number[] = [];
  for (let r = 0; r < 3; r++) {
    const ex = new Executor({ concurrency: 50, queueCapacity: 20_000, limits: { requests: { limit: 1e9, windowMs: 1000 } }, pool: { kind: 'inline' } });
    const batch = async () => {
      const ps = new Array<Promise<unknown>>(10_000);
      for (let i = 0; i < 10_000; i++) ps[i] = ex.call(noop, i, CallContext.withTimeout('mem', 60_000));
      await Promise.all(ps);
    };
    for (let i = 0; i < 3; i++) await batch();
    const before = await heapAfterGc();
    for (let i = 0; i < 20; i++) await batch();
    growth.push(((await heapAfterGc()) - before) / 1048576);
    await ex.close();
  }
  return [result('heap growth per 200k calls (after gc)', 'MB', growth, 'target < 2')];
}

export async function run(): Promise<BenchResult[]> {
  return [...(await throughput()), ...(await slotWakeUp()), ...(await rateAccuracyBench()), ...(await heapPer200k())];
}

await runStandalone(import.meta.url, run);
