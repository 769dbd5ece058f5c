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

test('LatencyHistogram: exact ranks, mean, count and max on a few values; a percentile past 100 is the max', (t) => {
  const h = new LatencyHistogram();
  t.is(h.percentile(50), 0, 'empty');
  // Under 256 µs every microsecond has its own bucket: the figures are exact.
  for (const us of [10, 20, 30, 40]) h.recordMs(us / 1000);
  t.is(h.count, 4);
  t.is(h.percentile(50), 0.02, 'rank 2 of 4 is the second value, not the third');
  t.is(h.percentile(75), 0.03);
  t.is(h.percentile(100), 0.04);
  t.is(h.percentile(101), 0.04);
  const s = h.summary();
  t.is(s.mean, 0.025);
  t.is(s.max, 0.04);
  t.is(s.p90, 0.04);
});

test('LatencyHistogram: negative and NaN durations count as 0; beyond 2^32 µs they are held at that ceiling', (t) => {
  const h = new LatencyHistogram();
  h.recordMs(-3);
  h.recordMs(Number.NaN);
  t.deepEqual(h.summary(), { count: 2, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  h.recordMs(10 * 3600 * 1000);
  t.is(h.summary().max, 0xffffffff / 1000);
  t.is(h.percentile(100), 0xffffffff / 1000);
});

test('LatencyHistogram.bins: n log-spaced bins from the smallest value to the largest, the first from 0, empty ones left out', (t) => {
  t.deepEqual(new LatencyHistogram().bins(4), []);
  const h = new LatencyHistogram();
  for (const us of [2, 10, 100, 200]) h.recordMs(us / 1000);
  const bins = h.bins(4);
  // Edges at 2 µs * 100^(k/4): 2, 6.32, 20, 63.2, 200 µs; 2 lands in the first, 10 in the
  // second, 100 and 200 in the last; the third is empty.
  const edge = (k: number): number => (2 * 100 ** (k / 4)) / 1000;
  t.deepEqual(bins.map((b) => b.count), [1, 1, 2]);
  t.is(bins[0]!.fromMs, 0);
  const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;
  t.true(close(bins[0]!.toMs, edge(1)), `${bins[0]!.toMs}`);
  t.true(close(bins[1]!.fromMs, edge(1)) && close(bins[1]!.toMs, edge(2)), JSON.stringify(bins[1]));
  t.true(close(bins[2]!.fromMs, edge(3)) && close(bins[2]!.toMs, edge(4)), JSON.stringify(bins[2]));
});

test('LatencyHistogram.bins: the last edge is the largest value recorded, not its bucket; one value makes one bin', (t) => {
  const h = new LatencyHistogram();
  h.recordMs(0.5);
  h.recordMs(1);
  const bins = h.bins(5);
  t.is(bins.at(-1)!.toMs, 1, 'the largest value, not the top of its bucket (1.003 ms)');
  t.is(bins.reduce((a, b) => a + b.count, 0), 2);
  const one = new LatencyHistogram();
  one.recordMs(0.005);
  const single = one.bins(3);
  t.is(single.length, 1);
  t.is(single[0]!.count, 1);
  t.is(single[0]!.fromMs, 0);
  t.true(single[0]!.toMs > 0.005 && single[0]!.toMs <= 0.006, `${single[0]!.toMs}`);
});

test('LatencyHistogram: zeros are binned with the rest; bucket edges above 256 µs and above 2^31 µs hold', (t) => {
  const h = new LatencyHistogram();
  for (const us of [0, 0, 2, 200]) h.recordMs(us / 1000);
  const bins = h.bins(4);
  t.is(bins.reduce((a, b) => a + b.count, 0), 4, 'the zeros too');
  t.is(bins[0]!.count, 3, 'zeros land in the first bin, with the smallest value');
  // 256 and 257 µs share a bucket: the percentile is the top of that bucket, unless the max is lower.
  const two = new LatencyHistogram();
  two.recordMs(0.256);
  two.recordMs(0.3);
  t.is(two.percentile(50), 0.257);
  // Beyond 2^31 µs (about 36 minutes) values still have buckets of their own.
  const long = new LatencyHistogram();
  long.recordMs(40 * 60_000);
  long.recordMs(60 * 60_000);
  const p50 = long.percentile(50);
  t.true(Math.abs(p50 - 40 * 60_000) / (40 * 60_000) < 0.01, `p50 ${p50} ms`);
});
