/**
 * Pushes a few thousand calls through an Executor under a request and a token rate limit and
 * prints what happened: every call settled, the limit held, and how long calls queued.
 * Run: npm run example
 */
import { CallContext, Executor, defineService } from '../src/index.js';

const work = defineService<{ n: number }, number>({
  name: 'square',
  handler: { call: async ({ n }) => n * n },
  estimateTokens: () => 10,
});

const limit = { limit: 500, windowMs: 1000 };
const ex = new Executor({
  queueCapacity: 5000,
  concurrency: 32,
  limits: { requests: limit, tokens: { limit: 20_000, windowMs: 1000 } },
  pool: { kind: 'inline' },
});

const admissions: number[] = [];
ex.on('admitted', (e) => admissions.push(e.at));

const total = 3000;
const ctx = CallContext.new('example');
const started = performance.now();
const results = await Promise.allSettled(Array.from({ length: total }, (_, n) => ex.call(work, { n }, ctx)));
const elapsed = (performance.now() - started) / 1000;

let worst = 0;
for (let i = 0, j = 0; i < admissions.length; i++) {
  while (admissions[i]! - admissions[j]! >= limit.windowMs) j++;
  worst = Math.max(worst, i - j + 1);
}

const s = ex.stats();
await ex.close();
const ok = results.filter((r) => r.status === 'fulfilled').length;
console.log(`calls: ${total}, completed: ${ok}, failed: ${s.failed}, cancelled: ${s.cancelled}, elapsed: ${elapsed.toFixed(2)} s`);
console.log(`rate limit: ${limit.limit}/${limit.windowMs} ms; most admissions in any rolling window: ${worst}; achieved ${(total / elapsed).toFixed(0)} calls/s`);
console.log(`queue wait ms: p50 ${s.queueWait.p50.toFixed(1)}, p90 ${s.queueWait.p90.toFixed(1)}, p99 ${s.queueWait.p99.toFixed(1)}, max ${s.queueWait.max.toFixed(1)}`);
console.log(`run time ms:   p50 ${s.runTime.p50.toFixed(3)}, p99 ${s.runTime.p99.toFixed(3)}`);
process.exitCode = ok === total && worst <= limit.limit ? 0 : 1;
