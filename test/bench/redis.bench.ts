/**
 * The Redis limiter against a local redis-server: admission decisions per second (one process,
 * and three processes sharing one key), and the latency an admission adds over the in-memory
 * limiter. Decisions are made one at a time, as the executor makes them.
 *
 *   node --expose-gc --import tsx test/bench/redis.bench.ts
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';
import { CHILD_EXEC_ARGV } from '../helpers/paths.js';
import { redisAvailable, startRedis } from '../helpers/redis-server.js';
import { result, type BenchResult } from './types.js';

const RUNS = 5;
const DECISIONS_MS = 1000;
const LATENCY_SAMPLES = 5000;
/** Never saturated: every decision is a full admission (the costlier path: it writes). */
const OPEN_REQUESTS = [{ limit: 1_000_000_000, windowMs: 1000 }];
const OPEN_TOKENS = [{ limit: 1_000_000_000, windowMs: 60_000 }];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Sequential admissions for `ms`; returns decisions per second. */
async function decisionsPerSecond(limiter: RedisLimiter, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    const a = await limiter.acquire(10);
    if (!a.admitted) throw new Error(`unexpected refusal: ${a.reason}`);
    // Reported sent at once, without waiting, as the executor does: its SENT shares the pipe.
    void limiter.sent(a.ticket, performance.now());
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

/** p50 of one admission, in ms. */
async function admissionP50(acquire: () => unknown): Promise<number> {
  const samples = new Float64Array(LATENCY_SAMPLES);
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = performance.now();
    await acquire();
    samples[i] = performance.now() - t;
  }
  return median([...samples]);
}

/** A child process of the 3-process run: waits for `go`, runs, reports its rate. */
async function child(): Promise<void> {
  const limiter = new RedisLimiter(OPEN_REQUESTS, OPEN_TOKENS, { url: process.env['REDIS_URL']!, key: 'bench-shared' });
  await decisionsPerSecond(limiter, 200);
  process.send!('ready');
  const [startAt] = (await once(process, 'message')) as [number];
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  const rate = await decisionsPerSecond(limiter, DECISIONS_MS);
  await limiter.close();
  process.send!(rate, () => process.exit(0));
}

async function threeProcesses(url: string): Promise<{ perProcess: number; total: number }> {
  const self = fileURLToPath(import.meta.url);
  const kids = [0, 1, 2].map(() => fork(self, [], { execArgv: CHILD_EXEC_ARGV, env: { ...process.env, REDIS_URL: url, REDIS_BENCH_CHILD: '1' } }));
  try {
    await Promise.all(kids.map((k) => once(k, 'message')));
    const rates = kids.map((k) => once(k, 'message').then(([r]) => r as number));
    const startAt = Date.now() + 50;
    for (const k of kids) k.send(startAt);
    const all = await Promise.all(rates);
    return { perProcess: Math.min(...all), total: all.reduce((a, b) => a + b, 0) };
  } finally {
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill();
  }
}

export async function run(): Promise<BenchResult[]> {
  if (!redisAvailable) throw new Error('redis-server is not installed; run: apt-get install -y redis-server');
  const server = await startRedis();
  const redis = new RedisLimiter(OPEN_REQUESTS, OPEN_TOKENS, { url: server.url, key: 'bench' });
  const memory = new MemoryLimiter(OPEN_REQUESTS, OPEN_TOKENS);
  try {
    await decisionsPerSecond(redis, 300);
    const single: number[] = [];
    const perProcess: number[] = [];
    const total: number[] = [];
    const redisP50: number[] = [];
    const memoryP50: number[] = [];
    const added: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      single.push(await decisionsPerSecond(redis, DECISIONS_MS));
      const three = await threeProcesses(server.url);
      perProcess.push(three.perProcess);
      total.push(three.total);
      const rp = await admissionP50(async () => {
        const a = await redis.acquire(10);
        if (a.admitted) void redis.sent(a.ticket, performance.now());
      });
      const mp = await admissionP50(() => {
        const a = memory.acquire(10);
        if (a.admitted) memory.sent(a.ticket, performance.now());
      });
      redisP50.push(rp);
      memoryP50.push(mp);
      added.push(rp - mp);
    }
    return [
      result('redis admissions, 1 process', 'decisions/s', single, 'target >= 5000/s per process'),
      result('redis admissions, 3 processes (slowest process)', 'decisions/s', perProcess, 'one key shared by three processes'),
      result('redis admissions, 3 processes (all together)', 'decisions/s', total),
      result('admission p50, redis', 'ms', redisP50),
      result('admission p50, in-memory', 'ms', memoryP50),
      result('admission p50 added by redis', 'ms', added, 'target < 0.5 ms'),
    ];
  } finally {
    await redis.close();
    await server.stop();
  }
}

if (process.env['REDIS_BENCH_CHILD'] === '1') {
  await child();
} else if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const results = await run();
  console.table(results.map((r) => ({ ...r, median: round(r.median), min: round(r.min), max: round(r.max) })));
  console.log(JSON.stringify(results, null, 2));
}

function round(v: number): number {
  return v >= 100 ? Math.round(v) : Math.round(v * 1000) / 1000;
}
