/**
 * Middleware overhead, side by side in one run:
 * - per call: the full stack (redaction, metrics, policy gate, hooks with none registered,
 *   circuit breaker, retry) vs a bare executor call, inline pool, a handler that returns at once;
 * - per stream: chunk throughput with and without the circuit breaker.
 * Variants alternate within each run so that machine noise hits them alike.
 */
import { CallContext, Executor, defineService, type Middleware } from '../../src/index.js';
import { circuitBreaker } from '../../src/middleware/circuit-breaker.js';
import { HookRegistry } from '../../src/middleware/hook-registry.js';
import { hooks } from '../../src/middleware/hooks.js';
import { metrics } from '../../src/middleware/metrics.js';
import { policyGate } from '../../src/middleware/policy-gate.js';
import { redaction } from '../../src/middleware/redaction.js';
import { retry } from '../../src/middleware/retry.js';
import { timeout } from '../../src/middleware/timeout.js';
import { result, runStandalone, type BenchResult } from './types.js';

const RUNS = 7;
const BATCH = 1_000;
const BATCHES = 20;
const CHUNKS = 5_000;
const STREAMS = 10;

// Never reads its signal, and says so: the rows measure the middleware, not Node's AbortController.
const noop = defineService({ name: 'noop', requires: ['compute'], handler: { call: () => 1 }, abortable: false });
const counter = defineService<{ n: number }>({
  name: 'counter',
  handler: {
    async *stream({ n }) {
      for (let i = 0; i < n; i++) yield i;
    },
  },
});

/** Entering the onion at all (the executor then builds an invocation per call). */
const passThrough = (): Middleware[] => [{ name: 'pass', call: (inv, next) => next(inv) }];
const fullStack = (): Middleware[] => [redaction(), metrics(), policyGate(), hooks(new HookRegistry()), circuitBreaker(), retry()];

/**
 * CPU time of this process (µs), not wall time: everything runs on this thread (inline pool),
 * and other load on a shared machine then does not count against either variant.
 */
function cpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** An executor over the inline pool with `middleware`, warmed up, that runs batches on demand. */
async function callRig(middleware: Middleware[]) {
  const ex = new Executor({ concurrency: 20, queueCapacity: BATCH, pool: { kind: 'inline' }, middleware });
  const ctx = CallContext.new('bench', { capabilities: ['compute'] });
  const batch = async (): Promise<number> => {
    const start = cpu();
    const pending: Promise<unknown>[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) pending[i] = ex.call(noop, i, ctx);
    await Promise.all(pending);
    return cpu() - start;
  };
  await batch();
  return { batch, close: () => ex.close() };
}

async function streamRig(middleware: Middleware[]) {
  const ex = new Executor({ pool: { kind: 'inline' }, middleware });
  const ctx = CallContext.new('bench');
  const stream = async (): Promise<number> => {
    const start = cpu();
    for await (const _ of ex.stream(counter, { n: CHUNKS }, ctx)) void _;
    return cpu() - start;
  };
  await stream();
  return { stream, close: () => ex.close() };
}

/** Turn order for round `round`: reversed every other round, so no variant always goes first. */
function order(n: number, round: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  return round % 2 === 0 ? idx : idx.reverse();
}

/**
 * One run: the variants take turns batch by batch (A B C C B A ...), so whatever else the
 * machine is doing (and the garbage each leaves for the collector) falls on all of them alike. Returns µs of CPU per call for each variant.
 */
async function callRun(variants: (() => Middleware[])[]): Promise<number[]> {
  const rigs = await Promise.all(variants.map((v) => callRig(v())));
  const total = rigs.map(() => 0);
  for (let b = 0; b < BATCHES; b++) {
    for (const i of order(rigs.length, b)) total[i] = total[i]! + (await rigs[i]!.batch());
  }
  await Promise.all(rigs.map((r) => r.close()));
  return total.map((us) => us / (BATCH * BATCHES));
}

/** Chunks per CPU-second for each variant, streams taking turns like `callRun`. */
async function streamRun(variants: (() => Middleware[])[]): Promise<number[]> {
  const rigs = await Promise.all(variants.map((v) => streamRig(v())));
  const total = rigs.map(() => 0);
  for (let b = 0; b < STREAMS; b++) {
    for (const i of order(rigs.length, b)) total[i] = total[i]! + (await rigs[i]!.stream());
  }
  await Promise.all(rigs.map((r) => r.close()));
  return total.map((us) => (CHUNKS * STREAMS) / (us / 1e6));
}

export async function run(): Promise<BenchResult[]> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const bare: number[] = [];
  const pass: number[] = [];
  const own: number[] = [];
  const stack: number[] = [];
  const stackTimeout: number[] = [];
  const overhead: number[] = [];
  const ratio: number[] = [];
  const plain: number[] = [];
  const breaker: number[] = [];
  const share: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    gc();
    const [b, pt, st, stt] = await callRun([() => [], passThrough, fullStack, () => [...fullStack(), timeout(60_000)]]);
    bare.push(b!);
    pass.push(pt!);
    own.push(st! - pt!);
    stack.push(st!);
    stackTimeout.push(stt!);
    overhead.push(st! - b!);
    ratio.push(st! / b!);
    gc();
    const [p, c] = await streamRun([() => [], () => [circuitBreaker()]]);
    plain.push(p!);
    breaker.push(c!);
    share.push((c! / p!) * 100);
  }
  return [
    result('call: bare executor', 'µs CPU/call', bare, `${BATCH * BATCHES} calls per run in batches of ${BATCH}, inline pool, concurrency 20; CPU time of this process`),
    result('call: one pass-through middleware', 'µs CPU/call', pass, 'the cost of entering the onion at all'),
    result('call: full stack', 'µs CPU/call', stack, 'redaction, metrics, policyGate, hooks (none registered), circuitBreaker, retry'),
    result('call: full stack + timeout', 'µs CPU/call', stackTimeout, 'adds a derived AbortSignal and a timer per attempt'),
    result('call: stack overhead', 'µs CPU/call', overhead, 'target < 20'),
    result('call: stack / bare', 'ratio', ratio),
    result('call: stack over pass-through', 'µs CPU/call', own, 'the six middleware themselves'),
    result('stream: without breaker', 'chunks/CPU-s', plain, `${STREAMS} streams of ${CHUNKS} chunks per run, inline pool`),
    result('stream: with breaker', 'chunks/CPU-s', breaker),
    result('stream: with / without breaker', '%', share, 'target >= 95'),
  ];
}

await runStandalone(import.meta.url, run);
