import test from 'ava';
import { LatencyHistogram } from '../../src/executor/latency-histogram.js';
import { checkExpectations } from '../../src/harness/expectations.js';
import { LoadPlan } from '../../src/harness/load-generator.js';
import { slope } from '../../src/harness/memory-sampler.js';
import { maxIn, rateAccuracy } from '../../src/harness/rate-accuracy.js';
import { SaturationTracker } from '../../src/harness/saturation.js';
import { shareOf } from '../../src/harness/soak-processes.js';
import { TimeSeries } from '../../src/harness/time-series.js';

function all(plan: LoadPlan) {
  const out = [];
  for (let c = plan.next(); c !== undefined; c = plan.next()) out.push(c);
  return out;
}

test('LoadPlan: a constant rate is evenly spaced and stops at the duration', (t) => {
  const calls = all(new LoadPlan({ rate: 10, durationS: 2 }, 1));
  t.is(calls.length, 20);
  t.true(calls.every((c, i) => Math.abs(c.atMs - i * 100) < 1e-6));
});

test('LoadPlan: bursts add calls at once, ramps change the rate, the mix is seeded', (t) => {
  const plan = new LoadPlan({ rate: 10, durationS: 10, bursts: { everyS: 5, calls: 50, startS: 1 }, mix: { call: 1, stream: 1 } }, 7);
  const calls = all(plan);
  t.is(calls.length, 100 + 2 * 50);
  // The burst's 50 plus the steady call due at the same instant.
  t.is(calls.filter((c) => c.atMs === 1000).length, 51);
  t.is(plan.expectedCalls(), 200);
  const again = all(new LoadPlan({ rate: 10, durationS: 10, bursts: { everyS: 5, calls: 50, startS: 1 }, mix: { call: 1, stream: 1 } }, 7));
  t.deepEqual(again, calls);
  const streams = calls.filter((c) => c.kind === 'stream').length;
  t.true(streams > 60 && streams < 140, `${streams} streams`);
  const ramp = all(new LoadPlan({ rate: 0, ramp: { toRate: 100, overS: 10 }, durationS: 10 }, 1));
  t.true(Math.abs(ramp.length - 500) < 15, `${ramp.length} calls on a 0 -> 100/s ramp`);
  t.is(all(new LoadPlan({ rate: 1000, calls: 7 }, 1)).length, 7);
});

test('LatencyHistogram: percentiles within 2.5%, bins cover every value', (t) => {
  const d = new LatencyHistogram();
  for (let i = 1; i <= 10_000; i++) d.recordMs(i / 10);
  const s = d.summary();
  t.is(s.count, 10_000);
  t.true(Math.abs(s.p50 - 500) / 500 < 0.025, `p50 ${s.p50}`);
  t.true(Math.abs(s.p99 - 990) / 990 < 0.025, `p99 ${s.p99}`);
  t.is(s.max, 1000);
  t.is(d.bins(20).reduce((a, b) => a + b.count, 0), 10_000);
  t.true(d.bins(20).length <= 20);
});

test('TimeSeries: memory stays bounded; buckets merge and rates survive', (t) => {
  const ts = new TimeSeries(['done'] as const, 0, 100, 8);
  for (let at = 0; at < 3200; at += 10) ts.add('done', at);
  t.is(ts.bucketMs, 400);
  const points = ts.points(3200);
  t.is(points.length, 8);
  t.true(points.every((p) => p['done'] === 100));
});

test('slope: flat data has slope 0 within noise, a leak shows', (t) => {
  const xs = Array.from({ length: 20 }, (_, i) => i * 1000);
  const flat = slope(xs, xs.map((_, i) => 20 + (i % 2 === 0 ? 0.1 : -0.1)));
  t.true(Math.abs(flat.mbPerMin) <= 2 * flat.stderr + 1e-9);
  const leak = slope(xs, xs.map((x) => 20 + x / 60_000));
  t.true(Math.abs(leak.mbPerMin - 1) < 1e-6);
});

test('rateAccuracy: max in any window, jitter needed to fit, utilisation at saturation', (t) => {
  // 10 per 1000 ms, each admitted the instant the one 10 before it leaves the window.
  const times = new Float64Array(50);
  for (let i = 0; i < 50; i++) times[i] = i * 100;
  t.is(maxIn(times, 1000), 10);
  const sat = new SaturationTracker();
  sat.waiting('requests', 0.5);
  sat.admitted(1000);
  sat.waiting('requests', 1000.5);
  sat.admitted(4900);
  t.is(sat.intervals.length, 1, 'back-to-back waits merge');
  const r = rateAccuracy(times, { source: 'upstream-arrivals', limit: 10, windowMs: 1000, toleranceMs: 5, saturated: sat.intervals, t0: 0, admissions: times });
  t.is(r.maxInWindow, 10);
  t.is(r.overshoot, 0);
  t.is(r.jitterMsToFit, 0);
  t.is(r.admissionsMaxInWindow, 10);
  t.true(r.utilisation !== null && Math.abs(r.utilisation - 1) < 0.01, `utilisation ${r.utilisation}`);
  // One request 20 ms early: the upstream sees 11 in a window unless it is shortened by 20 ms.
  const early = times.slice();
  early[20] = early[20]! - 20;
  const j = rateAccuracy(early, { source: 'upstream-arrivals', limit: 10, windowMs: 1000, toleranceMs: 5, saturated: [], t0: 0 });
  t.is(j.maxInWindow, 11);
  t.is(j.overshoot, 1);
  t.true(j.jitterMsToFit > 15 && j.jitterMsToFit < 25, `${j.jitterMsToFit}`);
  t.is(j.utilisation, null);
  t.is(Math.max(...j.windows.map((w) => w.max)), 11, 'the chart shows the strict count');
  t.true(j.windows.every((w) => w.maxTolerant <= w.max));
});

test('checkExpectations: says which failed and by how much; unmeasurable ones are skipped', (t) => {
  const figures = {
    latency: { queueWaitMs: { count: 10, mean: 1, p50: 1, p90: 2, p99: 150, max: 200 } },
    calls: { errorRate: 0 },
    memory: { heapSlope: { mbPerMin: 0, stderr: 1, samples: 3 } },
    streams: { chunksPerSec: 10 },
    rate: null,
    interrupted: false,
    target: { kind: 'mock', url: 'http://127.0.0.1:1' },
  } as unknown as Parameters<typeof checkExpectations>[1];
  const expect = { queueWaitP99Ms: 100, chunksPerSecMin: 5, errorRateMax: 0.01, heapSlopeMbPerMinMax: 1, rateOvershootMax: 0 };
  const out = checkExpectations(expect, figures);
  t.deepEqual(
    out.map((e) => [e.name, e.held, e.by]),
    [
      ['queueWaitP99Ms', false, 50],
      ['chunksPerSecMin', true, 0],
      ['errorRateMax', true, 0],
      ['heapSlopeMbPerMinMax', null, 0],
      ['rateOvershootMax', null, 0],
    ],
  );
  // Interrupted: what needs the whole run is skipped, what was measured is judged.
  const cut = checkExpectations(expect, { ...figures, interrupted: true });
  t.deepEqual(cut.map((e) => [e.name, e.held]), [['queueWaitP99Ms', false], ['chunksPerSecMin', null], ['errorRateMax', null], ['heapSlopeMbPerMinMax', null], ['rateOvershootMax', null]]);
  t.is(cut[2]!.note, 'the run was interrupted; this needs the whole run');
  // Against a target, a limit set for the embedded upstream's chunks is not judged.
  const target = checkExpectations(expect, { ...figures, target: { kind: 'url', url: 'https://api.example/v1' } });
  t.deepEqual(target.map((e) => [e.name, e.held]), [['queueWaitP99Ms', false], ['chunksPerSecMin', null], ['errorRateMax', true], ['heapSlopeMbPerMinMax', null], ['rateOvershootMax', null]]);
  t.regex(target[1]!.note!, /^only judged against the embedded upstream: the limit is set for the chunks per stream/);
});

test('shareOf: the processes of a run divide its rate, ramp, bursts and calls between them, adding up to the whole', (t) => {
  const fixture = { name: 'x', processes: 3, load: { rate: 30, calls: 100, ramp: { toRate: 60, overS: 5 }, bursts: { everyS: 5, calls: 2 } } };
  const shares = [0, 1, 2].map((i) => shareOf(fixture, i, 3));
  t.true(shares.every((s) => s.processes === 1 && s.load.rate === 10 && s.load.ramp?.toRate === 20));
  t.deepEqual(shares.map((s) => s.load.calls), [34, 33, 33]);
  t.deepEqual(shares.map((s) => s.load.bursts?.calls), [1, 1, undefined], 'a process with no share of a burst offers none');
  t.is(fixture.load.calls, 100, 'the fixture itself is left as it was');
});
