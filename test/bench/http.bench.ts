/**
 * The HTTP path against direct clients to the same loopback upstream, side by side in one run:
 * callpool's `openai.chat` (executor + rate limiter + four middleware + pool + undici transport +
 * validation) on the inline and piscina pools, direct `undici.request` on an Agent, and direct
 * node-fetch. Throughput at 20 concurrent calls, p50 latency of sequential calls, CPU per call on
 * the main thread (its own schedstat) and in the whole process (process.cpuUsage), and the
 * main thread's event-loop delay while 1 MB responses stream in. The throughput upstream runs in
 * a process of its own, so its CPU is not counted against any side; its own CPU share is reported
 * so a saturated upstream shows. A fifth side, bare worker threads (undici fed by batched
 * `postMessage`, nothing else), is the floor of any worker-thread design on the same machine:
 * what the thread hop itself costs, apart from callpool.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import fetch from 'node-fetch';
import { Agent, request } from 'undici';
import { CallContext } from '../../src/core/call-context.js';
import { Executor } from '../../src/executor/executor.js';
import { circuitBreaker } from '../../src/middleware/circuit-breaker.js';
import { metrics } from '../../src/middleware/metrics.js';
import { policyGate } from '../../src/middleware/policy-gate.js';
import { retry } from '../../src/middleware/retry.js';
import type { MockUpstreamOptions } from '../../src/harness/mock-upstream.js';
import type { PoolKind } from '../../src/pool/types.js';
import { openai } from '../../src/services/openai.js';
import { CHILD_EXEC_ARGV, EXT } from '../helpers/paths.js';
import { result, runStandalone, type BenchResult } from './types.js';

const RUNS = 9;
const SEQUENTIAL = 200;
/** Throughput rounds: long enough that ramp-up and one GC do not decide a round. */
const THROUGHPUT_ROUNDS = 9;
const CONCURRENT_CALLS = 1500;
const CONCURRENCY = 20;
const hello = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const ctx = () => CallContext.new('bench', { capabilities: ['net.out:127.0.0.1'] });

interface Upstream {
  baseURL: string;
  /** The upstream's own CPU time so far, in µs. */
  cpuUs(): Promise<number>;
  close(): Promise<void>;
}

/** The mock upstream in a child process. */
async function upstreamProcess(options: MockUpstreamOptions): Promise<Upstream> {
  const child: ChildProcess = fork(new URL(`../helpers/upstream-process${EXT}`, import.meta.url), [JSON.stringify(options)], { execArgv: CHILD_EXEC_ARGV });
  let failed: Error | undefined;
  child.once('error', (err) => (failed = err));
  const next = <T>() => new Promise<T>((resolve, reject) => {
    if (failed) reject(failed);
    child.once('message', (m) => resolve(m as T));
  });
  const { baseURL } = await next<{ baseURL: string }>();
  return {
    baseURL,
    cpuUs: async () => {
      const reply = next<{ cpu: NodeJS.CpuUsage }>();
      child.send('cpu');
      const { cpu } = await reply;
      return cpu.user + cpu.system;
    },
    close: async () => {
      const closed = next();
      child.send('close');
      await closed;
    },
  };
}

/** The mock upstream on a worker thread of this process (for the event-loop figures). */
async function upstreamThread(options: MockUpstreamOptions): Promise<{ baseURL: string; close(): Promise<void> }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      if (workerData.tsx) (await import(workerData.tsx)).register();
      const { startMockUpstream } = await import(workerData.mock);
      const up = await startMockUpstream(workerData.options);
      parentPort.on('message', async () => { await up.close(); parentPort.postMessage('closed'); });
      parentPort.postMessage(up.baseURL);
    })();`;
  const worker = new Worker(code, {
    eval: true,
    workerData: { tsx: EXT === '.ts' ? import.meta.resolve('tsx/esm/api') : undefined, mock: new URL(`../../src/harness/mock-upstream${EXT}`, import.meta.url).href, options },
  });
  const baseURL = await new Promise<string>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    baseURL,
    close: async () => {
      const closed = new Promise((r) => worker.once('message', r));
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}

interface Side {
  name: string;
  call: () => Promise<unknown>;
  close: () => Promise<void> | void;
}

function nodeFetchClient(baseURL: string): Side {
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ ...hello, model: 'm' });
  return {
    name: 'direct node-fetch',
    call: async () => (await fetch(`${baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, agent })).json(),
    close: () => agent.destroy(),
  };
}

function undiciClient(baseURL: string): Side {
  const dispatcher = new Agent({ keepAliveTimeout: 4000 });
  const body = JSON.stringify({ ...hello, model: 'm' });
  const url = `${baseURL}/chat/completions`;
  return {
    name: 'direct undici.request',
    call: async () => (await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher })).body.json(),
    close: () => dispatcher.destroy(),
  };
}

/**
 * Worker threads that do nothing but the request: the main thread batches calls per microtask
 * into one `postMessage` per worker (round robin), each worker runs `undici.request` and sends
 * the parsed bodies back batched the same way. No executor, limiter, middleware or validation.
 */
function bareWorkers(baseURL: string, threads: number): Side {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Agent, request } = require(workerData.undici);
    const dispatcher = new Agent({ keepAliveTimeout: 4000 });
    const headers = { 'content-type': 'application/json' };
    let out = [];
    const flush = () => { const o = out; out = []; parentPort.postMessage(o); };
    const reply = (m) => { if (out.push(m) === 1) queueMicrotask(flush); };
    parentPort.on('message', (batch) => {
      for (const [id, req] of batch) {
        request(workerData.url, { method: 'POST', headers, body: JSON.stringify(req), dispatcher })
          .then((r) => r.body.json())
          .then((v) => reply([id, v]), (e) => reply([id, undefined, String(e)]));
      }
    });`;
  const workerData = { url: `${baseURL}/chat/completions`, undici: createRequire(import.meta.url).resolve('undici') };
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true, workerData }));
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let outboxes = workers.map((): [number, unknown][] => []);
  let scheduled = false;
  let nextId = 0;
  const flush = (): void => {
    scheduled = false;
    const batches = outboxes;
    outboxes = workers.map(() => []);
    workers.forEach((w, i) => {
      if (batches[i]!.length > 0) w.postMessage(batches[i]);
    });
  };
  for (const w of workers) {
    w.on('message', (batch: [number, unknown, string?][]) => {
      for (const [id, v, err] of batch) {
        const p = waiting.get(id)!;
        waiting.delete(id);
        if (err === undefined) p.resolve(v);
        else p.reject(new Error(err));
      }
    });
  }
  const body = { ...hello, model: 'm' };
  return {
    name: `bare worker threads (${threads})`,
    call: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        outboxes[id % threads]!.push([id, body]);
        if (!scheduled) {
          scheduled = true;
          queueMicrotask(flush);
        }
      }),
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function pipeline(kind: PoolKind, baseURL: string): Side {
  const ex = new Executor({
    pool: { kind, threads: 2 },
    concurrency: CONCURRENCY,
    queueCapacity: 10_000,
    limits: { requests: { limit: 1_000_000, windowMs: 1000 } },
    middleware: [policyGate(), metrics(), circuitBreaker(), retry()],
  });
  const svc = openai.chat({ baseURL, model: 'm' });
  return { name: `callpool ${kind}`, call: () => ex.call(svc, hello, ctx()), close: () => ex.close() };
}

/** This thread's CPU time in ns (Linux schedstat; falls back to the process's). */
function threadCpuNs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) * 1000;
  }
}

function processCpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

async function p50Of(n: number, fn: () => Promise<unknown>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  xs.sort((a, b) => a - b);
  return xs[n >> 1]!;
}

interface Round {
  rate: number;
  mainCpuUs: number;
  processCpuUs: number;
  upstreamCpuShare: number;
}

async function throughputRound(n: number, c: number, fn: () => Promise<unknown>, up: Upstream): Promise<Round> {
  let next = 0;
  const upCpu0 = await up.cpuUs();
  const main0 = threadCpuNs();
  const proc0 = processCpuNs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next++ < n) await fn(); }));
  const ms = performance.now() - t0;
  const main = threadCpuNs() - main0;
  const proc = processCpuNs() - proc0;
  const upCpu = (await up.cpuUs()) - upCpu0;
  return { rate: (n / ms) * 1000, mainCpuUs: main / n / 1000, processCpuUs: proc / n / 1000, upstreamCpuShare: (upCpu / 1000 / ms) * 100 };
}

/** Runs each side once per round; the order rotates, so no side always goes first or last. */
async function rotating<T>(round: number, sides: readonly Side[], fn: (s: Side) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(sides.length);
  for (let i = 0; i < sides.length; i++) {
    const k = (round + i) % sides.length;
    out[k] = await fn(sides[k]!);
  }
  return out;
}

async function latencyAndThroughput(): Promise<BenchResult[]> {
  const up = await upstreamProcess({});
  const sides = [undiciClient(up.baseURL), nodeFetchClient(up.baseURL), pipeline('inline', up.baseURL), pipeline('piscina', up.baseURL), bareWorkers(up.baseURL, 2)];
  const pools = sides.slice(2, 4);
  try {
    // Every side's JIT, sockets and threads warm before anything is measured.
    for (let i = 0; i < 3; i++) for (const s of sides) await throughputRound(1000, CONCURRENCY, s.call, up);
    const lat = sides.map(() => [] as number[]);
    for (let r = 0; r < RUNS; r++) (await rotating(r, sides, (s) => p50Of(SEQUENTIAL, s.call))).forEach((v, i) => lat[i]!.push(v));
    const rounds = sides.map(() => [] as Round[]);
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) (await rotating(r, sides, (s) => throughputRound(CONCURRENT_CALLS, CONCURRENCY, s.call, up))).forEach((v, i) => rounds[i]!.push(v));

    const out: BenchResult[] = [];
    sides.forEach((s, i) => {
      out.push(result(`${s.name}, ${CONCURRENCY} concurrent`, 'calls/s', rounds[i]!.map((x) => x.rate)));
      out.push(result(`${s.name}: p50 latency, sequential`, 'ms', lat[i]!));
      out.push(result(`${s.name}: main-thread CPU per call`, 'µs', rounds[i]!.map((x) => x.mainCpuUs)));
      out.push(result(`${s.name}: process CPU per call (all threads)`, 'µs', rounds[i]!.map((x) => x.processCpuUs)));
    });
    for (const [j, p] of pools.entries()) {
      const i = j + 2;
      const kind = p.name.replace('callpool ', '');
      out.push(result(`callpool (${kind}) / direct undici throughput`, 'x', rounds[i]!.map((x, r) => x.rate / rounds[0]![r]!.rate), 'target >= 0.9x; same round'));
      out.push(result(`callpool (${kind}) / direct node-fetch throughput`, 'x', rounds[i]!.map((x, r) => x.rate / rounds[1]![r]!.rate), 'target >= 2.5x; same round'));
      out.push(result(`added p50 latency vs direct undici (${kind})`, 'ms', lat[i]!.map((x, r) => x - lat[0]![r]!), 'target < 0.2 ms; same round'));
    }
    out.push(result('bare worker threads / direct undici throughput', 'x', rounds[4]!.map((x, r) => x.rate / rounds[0]![r]!.rate), 'the floor of any worker-thread design here; same round'));
    out.push(result('callpool (piscina) / bare worker threads throughput', 'x', rounds[3]!.map((x, r) => x.rate / rounds[4]![r]!.rate), "callpool's own cost on the worker path; same round"));
    out.push(result('direct undici / direct node-fetch throughput', 'x', rounds[0]!.map((x, r) => x.rate / rounds[1]![r]!.rate)));
    out.push(result('upstream CPU share during direct undici rounds', '% of a core', rounds[0]!.map((x) => x.upstreamCpuShare), 'near 100 %: the upstream is the limit'));
    out.push(result('upstream CPU share during callpool piscina rounds', '% of a core', rounds[3]!.map((x) => x.upstreamCpuShare)));
    return out;
  } finally {
    for (const s of sides) await s.close();
    await up.close();
  }
}

async function eventLoopWhileStreaming(kind: PoolKind): Promise<BenchResult[]> {
  const up = await upstreamThread({ routes: { chat: { responseBytes: 1 << 20, stream: { chunks: 64 } } } });
  const ex = new Executor({ pool: { kind, threads: 2 }, concurrency: 4 });
  const svc = openai.chat({ baseURL: up.baseURL, model: 'm' });
  const streamOne = async () => {
    let chars = 0;
    for await (const c of ex.stream(svc, hello, ctx())) chars += c.choices[0]?.delta.content?.length ?? 0;
    if (chars !== 1 << 20) throw new Error(`short stream: ${chars}`);
  };
  try {
    await Promise.all(Array.from({ length: 4 }, streamOne));
    const p99: number[] = [];
    const mbps: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 8 }, streamOne));
      const s = (performance.now() - t0) / 1000;
      h.disable();
      p99.push(h.percentile(99) / 1e6);
      mbps.push(8 / s);
    }
    return [
      result(`event-loop p99 while 1 MB streams arrive (${kind})`, 'ms', p99, kind === 'piscina' ? 'target < 10 ms' : 'decoding on the main thread, for comparison'),
      result(`1 MB streams decoded (${kind})`, 'MB/s', mbps, '8 streams, 4 at a time, 64 chunks each'),
    ];
  } finally {
    await ex.close();
    await up.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  return [
    ...(await latencyAndThroughput()),
    ...(await eventLoopWhileStreaming('piscina')),
    ...(await eventLoopWhileStreaming('inline')),
  ];
}

await runStandalone(import.meta.url, run);
