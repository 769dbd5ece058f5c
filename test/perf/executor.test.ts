/**
 * The executor category of the performance suite: throughput, queue latency without polling,
 * bounded memory, overhead over a direct call, and rate-limit accuracy under load. Bounds are
 * generous (a busy 2-core machine); `npm run bench` reports the real figures.
 */
import test from 'ava';
import { CallContext, Executor, defineService, type Service } from '../../src/index.js';
import { gate, percentile, sleeper } from '../helpers/services.js';
import { rateAccuracy, type Admission } from '../helpers/rate-metrics.js';
import { heapAfterGc } from '../helpers/measure.js';

const noop = defineService({ name: 'noop', handler: { call: () => undefined } });
const ctx = CallContext.new('perf');

function recordAdmissions(ex: Executor): Admission[] {
  const out: Admission[] = [];
  ex.on('admitted', (e) => out.push({ at: e.at, queuedAt: e.at - e.queueWaitMs }));
  return out;
}


test.serial('high throughput of fast calls: far above 50 calls/s, submission latency well under 10 ms', async (t) => {
  const ex = new Executor({ concurrency: 20, queueCapacity: 20_000, pool: { kind: 'inline' } });
  const n = 20_000;
  const submitTimes: number[] = [];
  const started = performance.now();
  const calls = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    calls.push(ex.submit(noop, i, ctx).result());
    submitTimes.push(performance.now() - s);
  }
  await Promise.all(calls);
  const perSec = n / ((performance.now() - started) / 1000);
  t.log(`${perSec.toFixed(0)} calls/s; submit p99 ${percentile(submitTimes, 99).toFixed(4)} ms`);
  t.true(perSec > 50 * 20, `${perSec} calls/s`);
  t.true(percentile(submitTimes, 99) < 10);
  await ex.close();
});

test.serial('mixed load: slow calls do not hold back fast ones beyond the concurrency limit', async (t) => {
  const ex = new Executor({ concurrency: 10, queueCapacity: 5000, pool: { kind: 'inline' } });
  const slow = Array.from({ length: 5 }, () => ex.call(sleeper, { ms: 300 }, ctx));
  const started = performance.now();
  await Promise.all(Array.from({ length: 2000 }, (_, i) => ex.call(noop, i, ctx)));
  const fastDone = performance.now() - started;
  t.log(`2000 fast calls beside 5 slow ones: ${fastDone.toFixed(1)} ms`);
  t.true(fastDone < 300, 'fast calls finished while the slow ones were still running');
  await Promise.all(slow);
  await ex.close();
});

test.serial('queue latency: a freed concurrency slot admits the next call at once (no polling)', async (t) => {
  const g = gate();
  const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' } });
  const admittedAt = new Map<string, number>();
  ex.on('admitted', (e) => admittedAt.set(e.callId, e.at));
  const calls = Array.from({ length: 200 }, (_, id) => ex.submit(g.service, { id }, ctx.with({})));
  const delays: number[] = [];
  for (let id = 0; id < 200; id++) {
    const freed = performance.now();
    g.resolve(id);
    await calls[id]!.result();
    if (id + 1 < 200) delays.push(admittedAt.get(calls[id + 1]!.id)! - freed);
  }
  t.log(`slot freed -> next admitted: p50 ${percentile(delays, 50).toFixed(4)} ms, p99 ${percentile(delays, 99).toFixed(4)} ms`);
  t.true(percentile(delays, 99) < 20);
  await ex.close();
});

test.serial('queue latency: rate capacity freeing admits the waiting call within 20 ms p99', async (t) => {
  const limit = 20;
  const windowMs = 100;
  const ex = new Executor({ concurrency: 100, limits: { requests: { limit, windowMs } }, pool: { kind: 'inline' } });
  const adm = recordAdmissions(ex);
  await Promise.all(Array.from({ length: 200 }, (_, i) => ex.call(noop, i, ctx)));
  const acc = rateAccuracy(adm, limit, windowMs);
  t.log(`lateness p50 ${percentile(acc.lateness, 50).toFixed(3)} ms, p99 ${percentile(acc.lateness, 99).toFixed(3)} ms`);
  t.true(acc.lateness.length >= 150);
  t.true(percentile(acc.lateness, 99) < 20);
  await ex.close();
});

for (const pattern of ['burst', 'steady', 'straddle'] as const) {
  test.serial(`rate accuracy (${pattern}): no rolling window over its limit, >= 95% utilisation at saturation`, async (t) => {
    const limit = 50;
    const windowMs = 250;
    const ex = new Executor({ concurrency: 200, queueCapacity: 5000, limits: { requests: { limit, windowMs } }, pool: { kind: 'inline' } });
    const adm = recordAdmissions(ex);
    const calls: Promise<unknown>[] = [];
    const submit = (k: number) => {
      for (let i = 0; i < k; i++) calls.push(ex.call(noop, i, ctx));
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    if (pattern === 'burst') submit(400);
    else if (pattern === 'steady') {
      // 1.5x the allowed rate, evenly spaced, for 1.5 s.
      for (let i = 0; i < 30; i++) {
        submit(Math.round((limit * 1.5 * 50) / windowMs));
        await sleep(50);
      }
    } else {
      // Bursts that straddle window edges: half just before, half just after.
      for (let w = 0; w < 6; w++) {
        await sleep(windowMs - 10);
        submit(limit / 2);
        await sleep(20);
        submit(limit / 2 + 10);
      }
    }
    await Promise.all(calls);
    const acc = rateAccuracy(adm, limit, windowMs);
    t.log(`max in window ${acc.maxInWindow}/${limit}, utilisation ${(acc.utilisation * 100).toFixed(2)}% over ${acc.lateness.length} saturated admissions`);
    t.true(acc.maxInWindow <= limit);
    t.true(acc.lateness.length > 50, 'the pattern saturated the limiter');
    t.true(acc.utilisation >= 0.95);
    await ex.close();
  });
}

test.serial('several windows at once hold together (20 per 100 ms and 60 per 500 ms)', async (t) => {
  const ex = new Executor({ concurrency: 100, limits: { requests: [{ limit: 20, windowMs: 100 }, { limit: 60, windowMs: 500 }] }, pool: { kind: 'inline' } });
  const adm = recordAdmissions(ex);
  await Promise.all(Array.from({ length: 180 }, (_, i) => ex.call(noop, i, ctx)));
  t.true(rateAccuracy(adm, 20, 100).maxInWindow <= 20);
  const slow = rateAccuracy(adm, 60, 500);
  t.true(slow.maxInWindow <= 60);
  t.true(slow.utilisation >= 0.95, `utilisation ${slow.utilisation}`);
  await ex.close();
});

test.serial('token limits with reconciliation: the window is charged the actual usage', async (t) => {
  const llm: Service<{ used: number }, string> = defineService({
    name: 'llm',
    handler: { call: ({ used }: { used: number }) => `used ${used}` },
    estimateTokens: () => 100,
    tokensFromResult: (r: string) => Number(r.split(' ')[1]),
  });
  const ex = new Executor({ concurrency: 100, limits: { tokens: { limit: 1000, windowMs: 200 } }, pool: { kind: 'inline' } });
  const adm = recordAdmissions(ex);
  const started = performance.now();
  // Estimated 100 each (10 per window) but each uses 25: reconciliation lets ~40 per window through.
  await Promise.all(Array.from({ length: 120 }, () => ex.call(llm, { used: 25 }, ctx)));
  const elapsed = performance.now() - started;
  t.log(`120 calls in ${elapsed.toFixed(0)} ms`);
  t.true(elapsed < 1000, 'refunds were applied (without them this takes >= 2.2 s)');
  t.true(rateAccuracy(adm, 1000 / 25, 200).maxInWindow <= 1000 / 25 + 10);
  await ex.close();
});

test.serial('memory: 200k calls through the executor grow the heap by < 10 MB after gc', async (t) => {
  const ex = new Executor({ concurrency: 50, queueCapacity: 25_000, limits: { requests: { limit: 1e9, windowMs: 1000 } }, pool: { kind: 'inline' } });
  const batch = async (n: number) => {
    const ps = [];
    for (let i = 0; i < n; i++) ps.push(ex.call(noop, i, CallContext.withTimeout('mem', 60_000)));
    await Promise.all(ps);
  };
  await batch(20_000);
  const before = await heapAfterGc();
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    await batch(10_000);
    if (i % 5 === 4) samples.push(await heapAfterGc());
  }
  const growth = (samples.at(-1)! - before) / 1024 / 1024;
  t.log(`heap: before ${(before / 1048576).toFixed(1)} MB, samples ${samples.map((s) => (s / 1048576).toFixed(1)).join(', ')} MB, growth ${growth.toFixed(2)} MB`);
  t.is(ex.stats().completed, 220_000);
  t.true(growth < 10);
  await ex.close();
});

test.serial('overhead over a direct call stays under 2.5x for a realistic 1 ms call (0.99x measured on a quiet machine)', async (t) => {
  const work = defineService({ name: 'work', handler: { call: () => new Promise((r) => setTimeout(r, 1)) } });
  const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' } });
  // One call of each in turn, 300 pairs, so both see the same load; per-call medians compared.
  const direct: number[] = [];
  const via: number[] = [];
  for (let i = 0; i < 300; i++) {
    let s = performance.now();
    await new Promise((r) => setTimeout(r, 1));
    direct.push(performance.now() - s);
    s = performance.now();
    await ex.call(work, {}, ctx);
    via.push(performance.now() - s);
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
  const ratio = med(via) / med(direct);
  t.log(`executor/direct = ${ratio.toFixed(3)} (medians ${med(via).toFixed(3)} / ${med(direct).toFixed(3)} ms)`);
  // Measured 0.99-1.02 on a quiet machine, 2.08 with the machine loaded (load average 15 on 2
  // cores: a turn of the event loop then costs milliseconds). 2.5x binds both.
  t.true(ratio < 2.5, `executor/direct = ${ratio}`);
  await ex.close();
});
