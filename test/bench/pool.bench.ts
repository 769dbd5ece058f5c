/**
 * Worker pools and streams, side by side in one run: no-op throughput and sequential round
 * trip through the executor on piscina, the pools alone, raw piscina.run(), raw tinypool.run()
 * and a raw worker_threads MessageChannel (the floor, one message per call and 64 per
 * message); stream chunks/s and MB/s; main-thread event-loop delay under a 1 MB-response load,
 * inline vs piscina; and the codec (structured clone vs msgpackr with a transferred buffer).
 *   node --expose-gc --import tsx test/bench/pool.bench.ts
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Tinypool } from 'tinypool';
import { CallContext } from '../../src/core/call-context.js';
import { defineService } from '../../src/core/service.js';
import { Executor } from '../../src/executor/executor.js';
import { AbortHandle } from '../../src/core/abort-handle.js';
import { PiscinaPool, TinypoolPool } from '../../src/pool/worker-pool.js';
import type { ChannelPool } from '../../src/pool/channel-pool.js';
import { fixtureService, task } from '../helpers/pool-fixtures.js';
import { EXT, ROOT } from '../helpers/paths.js';
import { makeChatCompletion } from '../helpers/payloads.js';
import { alternating, heapAfterGc } from '../helpers/measure.js';
import { result, type BenchResult } from './types.js';

const THREADS = 2;
const RUNS = 5;
const CALLS = 5_000;
const SEQUENTIAL = 600;
/** Round-trip rounds: each is short (about 30 ms a target), and thread placement moves them a lot. */
const LATENCY_RUNS = 15;
const rawNoop = join(ROOT, 'test/fixtures/bench/raw-noop.mjs');
const rawChannel = join(ROOT, 'test/fixtures/bench/raw-channel.mjs');
const codecWorker = join(ROOT, 'test/fixtures/bench/codec-worker.mjs');
const ctx = CallContext.new('bench');

/** The no-op fixture handler, declared as never reading its signal. */
const quietNoop = defineService({ name: 'noop', module: new URL(`../fixtures/handlers/noop${EXT}`, import.meta.url), abortable: false });

/** One way to make a no-op call: `many(n)` runs n at once, `one()` runs a single call. */
interface Target {
  name: string;
  many(n: number): Promise<unknown>;
  one(): Promise<unknown>;
  close(): Promise<void>;
}

function executorTarget(name: string, kind: 'piscina' | 'tinypool', idleSpinUs?: number): Target {
  const ex = new Executor({ concurrency: 1024, queueCapacity: CALLS + 10, pool: { kind, threads: THREADS, ...(idleSpinUs === undefined ? {} : { idleSpinUs }) } });
  // Never reads its signal, and says so (as a handler without a signal parameter did before
  // every handler got one): the rows measure the pools, not an AbortController per call.
  const noop = quietNoop;
  return {
    name,
    many: (n) => Promise.all(Array.from({ length: n }, () => ex.call(noop, null, ctx))),
    one: () => ex.call(noop, null, ctx),
    close: () => ex.close(),
  };
}

/** The pool alone, driven as the executor drives it: `run` with an abort handle of its own per call. */
function poolTarget(name: string, pool: ChannelPool): Target {
  const t = { ...task('noop', null), service: quietNoop };
  return {
    name,
    many: (n) => Promise.all(Array.from({ length: n }, () => pool.run(t, new AbortHandle()))),
    one: () => pool.run(t, new AbortHandle()),
    close: () => pool.close(),
  };
}

function piscinaTarget(): Target {
  const p = new Piscina({ filename: rawNoop, minThreads: THREADS, maxThreads: THREADS, atomics: 'disabled' });
  return { name: 'raw piscina.run()', many: (n) => Promise.all(Array.from({ length: n }, () => p.run(null))), one: () => p.run(null), close: () => p.destroy() };
}

function tinypoolTarget(): Target {
  const p = new Tinypool({ filename: rawNoop, minThreads: THREADS, maxThreads: THREADS });
  return { name: 'raw tinypool.run()', many: (n) => Promise.all(Array.from({ length: n }, () => p.run(null))), one: () => p.run(null), close: () => p.destroy() };
}

/** Raw worker_threads: requests spread over the workers, `perMessage` requests per postMessage. */
function channelTarget(perMessage: number): Target {
  const workers = Array.from({ length: THREADS }, () => new Worker(rawChannel));
  const waiting = workers.map(() => [] as (() => void)[]);
  workers.forEach((w, i) =>
    w.on('message', (results: unknown[]) => {
      for (let k = 0; k < results.length; k++) waiting[i]!.shift()!();
    }),
  );
  let next = 0;
  const send = (count: number): Promise<void>[] => {
    const i = next++ % THREADS;
    const done = Array.from({ length: count }, () => new Promise<void>((r) => waiting[i]!.push(r)));
    workers[i]!.postMessage(Array.from({ length: count }, () => null));
    return done;
  };
  return {
    name: perMessage === 1 ? 'raw MessageChannel (1 per message)' : `raw MessageChannel (${perMessage} per message)`,
    many: (n) => {
      const all: Promise<void>[] = [];
      for (let sent = 0; sent < n; sent += perMessage) all.push(...send(Math.min(perMessage, n - sent)));
      return Promise.all(all);
    },
    one: () => send(1)[0]!,
    close: async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** Mean µs per call of `SEQUENTIAL` calls one after another, after 50 to warm up. */
async function roundTripUs(t: Target): Promise<number> {
  for (let i = 0; i < 50; i++) await t.one();
  const start = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) await t.one();
  return ((performance.now() - start) / SEQUENTIAL) * 1000;
}

async function callBenches(): Promise<BenchResult[]> {
  const targets: Target[] = [
    executorTarget('executor on piscina', 'piscina'),
    executorTarget('executor on tinypool', 'tinypool'),
    poolTarget('PiscinaPool.run()', new PiscinaPool({ threads: THREADS })),
    poolTarget('TinypoolPool.run()', new TinypoolPool({ threads: THREADS })),
    piscinaTarget(),
    tinypoolTarget(),
    channelTarget(1),
    channelTarget(64),
  ];
  const throughput = new Map<string, number[]>();
  const latency = new Map<string, number[]>();
  for (const t of targets) {
    await t.many(1000); // start the threads, load the handler, warm the JIT
    throughput.set(t.name, []);
    latency.set(t.name, []);
  }
  // Interleaved rounds: machine noise lands on every target alike. Sequential rounds run
  // apart from the bursts, so no target pays for another's garbage.
  for (let run = 0; run < RUNS; run++) {
    for (const t of targets) {
      globalThis.gc?.();
      const start = performance.now();
      await t.many(CALLS);
      throughput.get(t.name)!.push(CALLS / ((performance.now() - start) / 1000));
    }
  }
  // No forced GC before round trips: V8 deoptimized the executor's hot functions after each
  // one ('weak objects', --trace-deopt), so every round timed its re-optimization, a cost a
  // raw channel with almost no JavaScript does not have. Order reverses every other run.
  for (let run = 0; run < LATENCY_RUNS; run++) {
    for (const t of run % 2 === 0 ? targets : [...targets].reverse()) latency.get(t.name)!.push(await roundTripUs(t));
  }
  for (const t of targets) await t.close();
  const out: BenchResult[] = [];
  for (const t of targets) out.push(result(`no-op throughput: ${t.name}`, 'calls/s', throughput.get(t.name)!, `${CALLS} concurrent calls, ${THREADS} threads`));
  for (const t of targets) out.push(result(`sequential round trip: ${t.name}`, 'µs', latency.get(t.name)!, `${SEQUENTIAL} calls one after another`));
  const ratio = (a: Map<string, number[]>, x: string, y: string) => a.get(x)!.map((v, i) => v / a.get(y)![i]!);
  out.push(result('ratio: executor on piscina / raw piscina.run() throughput', 'x', ratio(throughput, 'executor on piscina', 'raw piscina.run()'), 'target >= 2.5 (same round)'));
  out.push(result('ratio: executor on piscina / raw MessageChannel round trip', 'x', ratio(latency, 'executor on piscina', 'raw MessageChannel (1 per message)'), 'target <= 1.2 (same round, all 8 targets alive)'));
  out.push(result('ratio: PiscinaPool.run() / raw MessageChannel round trip', 'x', ratio(latency, 'PiscinaPool.run()', 'raw MessageChannel (1 per message)'), 'the pool alone (same round)'));
  return out;
}

/**
 * The round-trip ratio again with only its two sides alive. With all eight targets' threads
 * alive (above) the same ratio moves between runs with where the OS places the threads. Once
 * more with the idle poll off: the raw channel's worker sleeps between messages, ours polls
 * for up to `idleSpinUs` first, so this shows what the poll is worth here.
 */
async function pairBench(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const spin of [undefined, 0]) {
    const ex = executorTarget('executor on piscina', 'piscina', spin);
    const raw = channelTarget(1);
    const ratio: number[] = [];
    await ex.many(1000);
    await raw.many(1000);
    for (let run = 0; run < LATENCY_RUNS; run++) {
      const [r, e] = await alternating(run, () => roundTripUs(raw), () => roundTripUs(ex));
      ratio.push(e / r);
    }
    await ex.close();
    await raw.close();
    const which = spin === 0 ? ', idle poll off (idleSpinUs 0)' : '';
    out.push(result(`ratio: executor on piscina / raw MessageChannel round trip, only the two alive${which}`, 'x', ratio, `${SEQUENTIAL} calls one after another, same round, order alternating`));
  }
  return out;
}

async function streamBenches(): Promise<BenchResult[]> {
  const pool = new PiscinaPool({ threads: THREADS });
  const ex = new Executor({ concurrency: 16, pool: { kind: 'piscina', threads: THREADS } });
  const counted = fixtureService('stream-counted');
  const small = 50_000;
  const size = 16 * 1024;
  const big = 3200; // 50 MB of 16 KB chunks
  const samples = { pool: [] as number[], executor: [] as number[], mb: [] as number[] };
  const drain = async (it: AsyncIterable<unknown>): Promise<number> => {
    let bytes = 0;
    for await (const c of it) bytes += typeof c === 'string' ? c.length : 0;
    return bytes;
  };
  await drain(pool.stream(task('stream-counted', { n: 1000 }), new AbortHandle()));
  await drain(ex.stream(counted, { n: 1000 }, ctx));
  for (let run = 0; run < RUNS; run++) {
    let start = performance.now();
    await drain(pool.stream(task('stream-counted', { n: small }), new AbortHandle()));
    samples.pool.push(small / ((performance.now() - start) / 1000));
    start = performance.now();
    await drain(ex.stream(counted, { n: small }, ctx));
    samples.executor.push(small / ((performance.now() - start) / 1000));
    start = performance.now();
    const bytes = await drain(pool.stream(task('stream-counted', { n: big, size }), new AbortHandle()));
    samples.mb.push(bytes / 1048576 / ((performance.now() - start) / 1000));
  }
  await pool.close();
  await ex.close();
  return [
    result('stream small chunks: PiscinaPool.stream()', 'chunks/s', samples.pool, `${small} numbers, credit 64`),
    result('stream small chunks: executor.stream() on piscina', 'chunks/s', samples.executor, `${small} numbers, credit 64`),
    result('stream 16 KB chunks: PiscinaPool.stream()', 'MB/s', samples.mb, '50 MB per stream'),
  ];
}

/**
 * 50 MB of 16 KB chunks through `executor.stream()` on piscina to a consumer that sleeps 1 ms
 * every 16 chunks: peak heap growth over the stream, sampled every 400 chunks. Memory should
 * follow the credit window (64 chunks, 1 MB here), not the stream's length.
 */
async function slowConsumerBench(): Promise<BenchResult[]> {
  const ex = new Executor({ concurrency: 4, pool: { kind: 'piscina', threads: THREADS } });
  const counted = fixtureService('stream-counted');
  const size = 16 * 1024;
  const n = 3200;
  const peaks: number[] = [];
  for await (const _ of ex.stream(counted, { n: 100, size }, ctx));
  for (let run = 0; run < 3; run++) {
    const base = await heapAfterGc(2);
    let peak = 0;
    let consumed = 0;
    for await (const _ of ex.stream(counted, { n, size }, ctx)) {
      consumed++;
      if (consumed % 16 === 0) await new Promise((r) => setTimeout(r, 1));
      if (consumed % 400 === 0) peak = Math.max(peak, (await heapAfterGc(2)) - base);
    }
    peaks.push(peak / 1048576);
  }
  await ex.close();
  return [result('50 MB stream, slow consumer: peak heap growth', 'MB', peaks, 'executor.stream() on piscina, credit 64, heap after gc every 400 chunks')];
}

async function eventLoopBenches(): Promise<BenchResult[]> {
  const heavy = fixtureService('cpu-heavy');
  const kinds = ['inline', 'piscina'] as const;
  const executors = kinds.map((kind) => new Executor({ concurrency: 4, pool: { kind, threads: 1 } }));
  for (const ex of executors) await ex.call(heavy, {}, ctx);
  const p99 = kinds.map(() => [] as number[]);
  for (let run = 0; run < RUNS; run++) {
    for (let k = 0; k < kinds.length; k++) {
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        for (let j = 0; j < 4; j++) calls.push(executors[k]!.call(heavy, {}, ctx));
        await new Promise((r) => setTimeout(r, 60));
      }
      await Promise.all(calls);
      h.disable();
      p99[k]!.push(h.percentile(99) / 1e6);
    }
  }
  for (const ex of executors) await ex.close();
  return kinds.map((kind, k) => result(`event-loop delay p99, 1 MB parse+validate load: ${kind}`, 'ms', p99[k]!, '4 responses every 60 ms, 1 worker thread'));
}

async function codecBenches(): Promise<BenchResult[]> {
  const sizes = { '4 KB': 4 * 1024, '64 KB': 64 * 1024, '1 MB': 1024 * 1024 };
  const payloads = Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, makeChatCompletion(v)]));
  const { unpack } = await import('../../src/pool/codec.js');
  const worker = new Worker(codecWorker, { workerData: { payloads } });
  const roundTrip = (size: string, mode: 'clone' | 'msgpack') =>
    new Promise<unknown>((resolve) => {
      worker.once('message', (msg: unknown) => resolve(mode === 'clone' ? msg : unpack(msg as Uint8Array)));
      worker.postMessage({ size, mode });
    });
  const out: BenchResult[] = [];
  for (const size of Object.keys(sizes)) {
    const n = size === '1 MB' ? 12 : size === '64 KB' ? 100 : 300;
    const times = { clone: [] as number[], msgpack: [] as number[] };
    for (const mode of ['clone', 'msgpack'] as const) for (let i = 0; i < 10; i++) await roundTrip(size, mode);
    for (let run = 0; run < RUNS; run++) {
      for (const mode of ['clone', 'msgpack'] as const) {
        const start = performance.now();
        for (let i = 0; i < n; i++) await roundTrip(size, mode);
        times[mode].push(((performance.now() - start) / n) * 1000);
      }
    }
    out.push(result(`codec ${size} result worker -> main: structured clone`, 'µs', times.clone, 'per result, decoded on main'));
    out.push(result(`codec ${size} result worker -> main: msgpackr + transfer`, 'µs', times.msgpack, 'per result, packed in worker, unpacked on main'));
  }
  await worker.terminate();
  return out;
}

export async function run(): Promise<BenchResult[]> {
  return [...(await callBenches()), ...(await pairBench()), ...(await streamBenches()), ...(await slowConsumerBench()), ...(await eventLoopBenches()), ...(await codecBenches())];
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const results = await run();
  const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
  const width = Math.max(...results.map((r) => r.name.length));
  for (const r of results) console.log(`${r.name.padEnd(width)}  ${fmt(r.median).padStart(10)} ${r.unit.padEnd(8)} [${fmt(r.min)} .. ${fmt(r.max)}]${r.note ? `  ${r.note}` : ''}`);
  console.log(JSON.stringify(results, null, 2));
}
