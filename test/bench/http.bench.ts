/**
 * The HTTP path against a direct node-fetch call to the same loopback upstream, side by side in
 * one run: added p50 latency of the whole pipeline (executor + rate limiter + four middleware +
 * pool + HTTP client + validation),
 * throughput at 20 concurrent calls, and the main thread's event-loop delay while 1 MB responses
 * stream in. The upstream runs on its own thread so its work does not load the main thread.
 */
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import fetch from 'node-fetch';
import { CallContext } from '../../src/core/call-context.js';
import { Executor } from '../../src/executor/executor.js';
import { circuitBreaker } from '../../src/middleware/circuit-breaker.js';
import { metrics } from '../../src/middleware/metrics.js';
import { policyGate } from '../../src/middleware/policy-gate.js';
import { retry } from '../../src/middleware/retry.js';
import type { MockUpstreamOptions } from '../../src/harness/mock-upstream.js';
import type { PoolKind } from '../../src/pool/types.js';
import { openai } from '../../src/services/openai.js';
import { alternating } from '../helpers/measure.js';
import { EXT } from '../helpers/paths.js';
import { result, runStandalone, type BenchResult } from './types.js';

const RUNS = 9;
const SEQUENTIAL = 200;
/** Throughput rounds: long enough that ramp-up and one GC do not decide a round. */
const THROUGHPUT_ROUNDS = 9;
const CONCURRENT_CALLS = 1500;
const CONCURRENCY = 20;
const hello = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const ctx = () => CallContext.new('bench', { capabilities: ['net.out:127.0.0.1'] });

/** The mock upstream on a worker thread of its own. */
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

function directClient(baseURL: string) {
  const agent = new http.Agent({ keepAlive: true });
  const body = JSON.stringify({ ...hello, model: 'm' });
  return {
    call: async () => (await fetch(`${baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, agent })).json(),
    close: () => agent.destroy(),
  };
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

async function callsPerSecond(n: number, c: number, fn: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next++ < n) await fn(); }));
  return (n / (performance.now() - t0)) * 1000;
}

async function latencyAndThroughput(kind: PoolKind): Promise<BenchResult[]> {
  const up = await upstreamThread({});
  const direct = directClient(up.baseURL);
  const ex = new Executor({
    pool: { kind, threads: 2 },
    concurrency: CONCURRENCY,
    queueCapacity: 10_000,
    limits: { requests: { limit: 1_000_000, windowMs: 1000 } },
    middleware: [policyGate(), metrics(), circuitBreaker(), retry()],
  });
  const svc = openai.chat({ baseURL: up.baseURL, model: 'm' });
  const pipeline = () => ex.call(svc, hello, ctx());
  try {
    // Both sides' JIT and sockets warm: in one process, direct node-fetch's p50 kept falling
    // (1.08 -> 0.61 ms) over its first few thousand calls.
    for (let i = 0; i < 3; i++) {
      await callsPerSecond(1000, CONCURRENCY, direct.call);
      await callsPerSecond(1000, CONCURRENCY, pipeline);
    }
    // Rounds alternate which side goes first, so drift and whatever one side leaves behind
    // (GC debt, cold sockets, a thread gone to sleep) do not always fall on the same side.
    const dLat: number[] = [], pLat: number[] = [], added: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const [d, p] = await alternating(r, () => p50Of(SEQUENTIAL, direct.call), () => p50Of(SEQUENTIAL, pipeline));
      dLat.push(d);
      pLat.push(p);
      added.push(p - d);
    }
    const dRate: number[] = [], pRate: number[] = [], ratio: number[] = [];
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
      const [dr, pr] = await alternating(r, () => callsPerSecond(CONCURRENT_CALLS, CONCURRENCY, direct.call), () => callsPerSecond(CONCURRENT_CALLS, CONCURRENCY, pipeline));
      dRate.push(dr);
      pRate.push(pr);
      ratio.push((pr / dr) * 100);
    }
    return [
      result(`direct node-fetch p50 latency`, 'ms', dLat, `vs ${kind}`),
      result(`pipeline p50 latency (${kind})`, 'ms', pLat),
      result(`added p50 latency (${kind})`, 'ms', added, 'target < 0.5 ms'),
      result(`direct node-fetch, ${CONCURRENCY} concurrent`, 'calls/s', dRate, `vs ${kind}`),
      result(`pipeline, ${CONCURRENCY} concurrent (${kind})`, 'calls/s', pRate),
      result(`pipeline / direct throughput (${kind})`, '%', ratio, `target >= 90 %; ${CONCURRENT_CALLS} calls a side per round, order alternating`),
    ];
  } finally {
    await ex.close();
    direct.close();
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
    ...(await latencyAndThroughput('piscina')),
    ...(await latencyAndThroughput('inline')),
    ...(await eventLoopWhileStreaming('piscina')),
    ...(await eventLoopWhileStreaming('inline')),
  ];
}

await runStandalone(import.meta.url, run);
