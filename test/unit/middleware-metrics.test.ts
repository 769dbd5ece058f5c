import test from 'ava';
import { CallContext, Executor, TransportError, defineService } from '../../src/index.js';
import { metrics } from '../../src/middleware/metrics.js';
import { chunks, collect, fakeInv } from '../helpers/middleware-fakes.js';
import { gate } from '../helpers/services.js';

test('metrics: per-service outcomes and latency for calls, in a snapshot and in Prometheus text', async (t) => {
  const m = metrics();
  const inv = fakeInv();
  const began = performance.now();
  await m.call!(inv, () => new Promise((r) => setTimeout(() => r(1), 20)));
  await m.call!(inv, async () => 2);
  await t.throwsAsync(m.call!(inv, async () => { throw new TransportError('503', 503, { retryable: true }); }));
  await t.throwsAsync(m.call!(inv, async () => { throw new Error('plain'); }));
  const spent = performance.now() - began;
  const s = m.snapshot().services['svc']!;
  t.deepEqual(s.calls.outcomes, { ok: 2, E_TRANSPORT: 1, E_HANDLER: 1 });
  t.is(s.calls.latency.count, 4);
  t.is(s.calls.latency.buckets.at(-1)!.count, 4);
  // The 20 ms call is in the sum, and the sum is no more than the time all four took.
  t.true(s.calls.latency.sumMs >= 19 && s.calls.latency.sumMs <= spent, `sumMs ${s.calls.latency.sumMs}, spent ${spent}`);
  const text = await m.prometheus();
  t.regex(text, /callpool_calls_total\{service="svc",kind="call",outcome="ok"\} 2/);
  t.regex(text, /callpool_calls_total\{service="svc",kind="call",outcome="E_TRANSPORT"\} 1/);
  t.regex(text, /callpool_call_duration_seconds_count\{service="svc",kind="call"\} 4/);
  t.regex(text, /# TYPE callpool_call_duration_seconds histogram/);
  t.regex(text, /callpool_call_duration_seconds_bucket\{service="svc",kind="call",le="60"\} 4/);
  t.regex(text, /callpool_call_duration_seconds_bucket\{service="svc",kind="call",le="\+Inf"\} 4/);
  t.notRegex(text, /kind="stream"/);
  const json = await m.registry.getMetricsAsJSON();
  const histogram = json.find((x) => x.name === 'callpool_call_duration_seconds')!;
  t.is(histogram.type as unknown, 'histogram');
  t.is(histogram.aggregator, 'sum', 'processes\' histograms add up when a cluster registry merges them');
  t.true(histogram.values.every((v) => /^callpool_call_duration_seconds_(bucket|sum|count)$/.test(String((v as { metricName?: unknown }).metricName))), 'buckets, sum and count only');
  const sumS = Number(/callpool_call_duration_seconds_sum\{service="svc",kind="call"\} (\S+)/.exec(text)?.[1]);
  t.true(Math.abs(sumS - s.calls.latency.sumMs / 1000) < 1e-9, `_sum ${sumS} s against ${s.calls.latency.sumMs} ms`);
  m.registry.resetMetrics();
  t.regex(await m.prometheus(), /callpool_call_duration_seconds_count\{service="svc",kind="call"\} 4/);
  t.regex(m.contentType, /text\/plain/);
});

test('metrics: streams count chunks, bytes and outcomes (a consumer leaving early is `cancelled`)', async (t) => {
  const m = metrics();
  const inv = fakeInv({ kind: 'stream' });
  t.deepEqual(await collect(m.stream!(inv, () => chunks(['ab', 'cdé', Buffer.alloc(10), { k: 1 }]))), ['ab', 'cdé', Buffer.alloc(10), { k: 1 }]);
  await t.throwsAsync(collect(m.stream!(inv, () => chunks(['x'], new TransportError('cut', 502, { retryable: true })))));
  for await (const c of m.stream!(inv, () => chunks(['y', 'z']))) if (c === 'y') break;
  const s = m.snapshot().services['svc']!.streams;
  t.deepEqual(s.outcomes, { ok: 1, E_TRANSPORT: 1, cancelled: 1 });
  t.is(s.chunks, 6);
  t.is(s.bytes, 2 + 4 + 10 + 7 + 1 + 1);
  const text = await m.prometheus();
  t.regex(text, /callpool_stream_chunks_total\{service="svc"\} 6/);
  t.regex(text, /callpool_stream_bytes_total\{service="svc"\} 25/);
});

test('metrics: label values are redacted, odd error codes bucketed; its registry is its own', async (t) => {
  const secret = 'sk-abcdefghijklmnop';
  const m = metrics({ prefix: 'app_' });
  const svc = defineService({ name: `svc-${secret}`, handler: { call: () => 1 } });
  await t.throwsAsync(m.call!(fakeInv({ service: svc }), async () => { throw Object.assign(new Error('x'), { code: `weird ${secret}` }); }));
  const text = await m.prometheus();
  t.false(text.includes(secret));
  t.false(JSON.stringify(m.snapshot()).includes(secret));
  t.regex(text, /app_calls_total\{service="svc-sk-\[redacted\]",kind="call",outcome="E_OTHER"\} 1/);
  // Two instances do not collide (no global registry).
  t.notThrows(() => metrics({ prefix: 'app_' }));
});

test('metrics: counts rate-limit waits and queue-full refusals reported by the executor', async (t) => {
  const m = metrics();
  const g = gate();
  const ex = new Executor({ concurrency: 1, queueCapacity: 1, limits: { requests: { limit: 1, windowMs: 60_000 } }, pool: { kind: 'inline' }, middleware: [m] });
  t.teardown(() => ex.close({ drain: false }));
  const ctx = () => CallContext.new('b');
  const first = ex.call(g.service, { id: 1 }, ctx());
  ex.call(g.service, { id: 2 }, ctx()).catch(() => {});
  await t.throwsAsync(ex.call(g.service, { id: 3 }, ctx()), { code: 'E_QUEUE_FULL' });
  g.resolve(1);
  await first;
  const s = m.snapshot().services['gate']!;
  t.is(s.rateLimited, 1);
  t.is(s.queueFull, 1);
  t.is(s.calls.outcomes['ok'], 1);
  t.regex(await m.prometheus(), /callpool_queue_full_total\{service="gate"\} 1/);
});

test('metrics: Prometheus text carries the queue depth (read when scraped) and queue wait', async (t) => {
  const m = metrics();
  const g = gate();
  const ex = new Executor({ concurrency: 1, pool: { kind: 'inline' }, middleware: [m] });
  t.teardown(() => ex.close({ drain: false }));
  const ctx = () => CallContext.new('b');
  const calls = [1, 2, 3].map((id) => ex.call(g.service, { id }, ctx()));
  await new Promise((r) => setTimeout(r, 30));
  t.is(ex.queued, 2);
  t.regex(await m.prometheus(), /^callpool_queue_depth 2$/m);
  for (const id of [1, 2, 3]) {
    g.resolve(id);
    await calls[id - 1];
  }
  const text = await m.prometheus();
  t.regex(text, /^callpool_queue_depth 0$/m);
  t.regex(text, /^callpool_queue_wait_seconds_count\{service="gate"\} 3$/m);
  const wait = m.snapshot().services['gate']!.queueWait;
  t.is(wait.count, 3);
  t.true(wait.maxMs >= 25, `the last call waited for the first two (${wait.maxMs} ms)`);
});

test('metrics: a throwing sizeOf neither breaks the stream nor goes unhandled', async (t) => {
  const m = metrics({ sizeOf: () => { throw new Error('bad sizer'); } });
  t.deepEqual(await collect(m.stream!(fakeInv({ kind: 'stream' }), () => chunks([1, 2]))), [1, 2]);
  t.deepEqual(m.snapshot().services['svc']!.streams.outcomes, { ok: 1 });
});
