import test from 'ava';
import { LatencyHistogram } from '../../src/executor/latency-histogram.js';
import { prng } from '../helpers/prng.js';
import { percentile } from '../helpers/services.js';

test('LatencyHistogram percentiles are within 1% of the exact ones, over six orders of magnitude', (t) => {
  const rand = prng(3);
  const h = new LatencyHistogram();
  const values: number[] = [];
  for (let i = 0; i < 50_000; i++) {
    const ms = Math.exp(rand() * Math.log(1e6)) / 1000; // 1 µs .. 1 s, log-uniform
    values.push(Math.round(ms * 1000) / 1000);
    h.recordMs(ms);
  }
  for (const p of [50, 90, 99]) {
    const exact = percentile(values, p);
    const got = h.percentile(p);
    t.true(Math.abs(got - exact) / exact < 0.01, `p${p}: ${got} vs ${exact}`);
  }
  t.is(h.summary().count, 50_000);
  t.is(h.summary().max, Math.max(...values));
});

test('LatencyHistogram handles zero, tiny and huge values and resets', (t) => {
  const h = new LatencyHistogram();
  h.recordMs(0);
  h.recordMs(-5);
  h.recordMs(0.0004);
  h.recordMs(10 * 3600 * 1000);
  const s = h.summary();
  t.is(s.count, 4);
  t.is(s.p50, 0);
  t.true(s.max > 4_000_000);
  h.reset();
  t.deepEqual(h.summary(), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});
