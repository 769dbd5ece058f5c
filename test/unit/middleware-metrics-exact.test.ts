import test from 'ava';
import { EventEmitter } from 'node:events';
import { CancelledError, TransportError } from '../../src/index.js';
import type { ExecutorEvents } from '../../src/core/events.js';
import { metrics } from '../../src/middleware/metrics.js';
import { fakeClockEach } from '../helpers/fake-clock.js';
import { chunks, collect, fakeInv } from '../helpers/middleware-fakes.js';

// The metrics middleware on a fake clock: exact durations, bucket edges, labels and outcomes.

const fake = fakeClockEach(test);

/** A `next` that answers (or fails) after exactly `ms` of fake time. */
function after(ms: number, fail?: unknown): () => Promise<unknown> {
  return () => new Promise((resolve, reject) => setTimeout(() => (fail === undefined ? resolve('ok') : reject(fail)), ms));
}

/** A stream whose chunks come `ms` apart on the fake clock. */
async function* spaced(ms: number, items: unknown[], fail?: unknown): AsyncGenerator<unknown> {
  for (const c of items) {
    await new Promise((r) => setTimeout(r, ms));
    yield c;
  }
  if (fail !== undefined) throw fail;
}

fake.serial('call durations are exact, a duration on a bucket bound is counted in that bucket, the max is the largest seen', async (t) => {
  const m = metrics({ buckets: [5, 1, 1, 2] });
  const inv = fakeInv();
  for (const ms of [1000, 2500, 400]) {
    const p = m.call!(inv, after(ms));
    await fake.advance(ms);
    await p;
  }
  const l = m.snapshot().services['svc']!.calls.latency;
  t.is(l.count, 3);
  t.is(l.sumMs, 3900);
  t.is(l.maxMs, 2500, 'the largest, not the last');
  t.deepEqual(l.buckets, [
    { leMs: 1000, count: 2 },
    { leMs: 2000, count: 2 },
    { leMs: 5000, count: 3 },
  ], 'bounds sorted and deduplicated; 1000 ms is in le=1 s');
  const text = await m.prometheus();
  t.regex(text, /callpool_call_duration_seconds_bucket\{service="svc",kind="call",le="1"\} 2\n.*le="2"\} 2\n.*le="5"\} 3\n/);
  t.regex(text, /callpool_call_duration_seconds_sum\{service="svc",kind="call"\} 3\.9\n/);
});

fake.serial('stream durations are exact for each ending (ok, failure, consumer left) and labelled kind="stream"', async (t) => {
  const m = metrics({ buckets: [1, 10] });
  const inv = fakeInv({ kind: 'stream' });
  const done = collect(m.stream!(inv, () => spaced(300, ['a', 'b'])));
  await fake.advance(300);
  await fake.advance(300);
  t.deepEqual(await done, ['a', 'b']);
  const failed = collect(m.stream!(inv, () => spaced(700, ['c'], new TransportError('cut', 502, { retryable: true }))));
  const failedSeen = t.throwsAsync(failed, { code: 'E_TRANSPORT' });
  await fake.advance(700);
  await failedSeen;
  const it = m.stream!(inv, () => spaced(200, ['d', 'e']))[Symbol.asyncIterator]();
  const first = it.next();
  await fake.advance(200);
  await first;
  await fake.advance(50);
  await it.return!();
  const s = m.snapshot().services['svc']!.streams;
  t.deepEqual(s.outcomes, { ok: 1, E_TRANSPORT: 1, cancelled: 1 });
  t.is(s.latency.sumMs, 600 + 700 + 250);
  t.is(s.latency.maxMs, 700);
  const text = await m.prometheus();
  t.regex(text, /callpool_calls_total\{service="svc",kind="stream",outcome="ok"\} 1/);
  t.regex(text, /callpool_calls_total\{service="svc",kind="stream",outcome="cancelled"\} 1/);
  t.regex(text, /callpool_call_duration_seconds_count\{service="svc",kind="stream"\} 3/);
  t.regex(text, /callpool_call_duration_seconds_sum\{service="svc",kind="stream"\} 1\.55\n/);
});

fake.serial('outcomes: cancellations, well-formed codes, and anything else bucketed (never echoed)', async (t) => {
  const m = metrics();
  const inv = fakeInv();
  const failures: unknown[] = [
    new CancelledError('stop'),
    null,
    undefined,
    'a string',
    42,
    Object.assign(new Error('x'), { code: 42 }),
    Object.assign(new Error('x'), { code: 'E_FINE and more' }),
    Object.assign(new Error('x'), { code: 'junk E_FINE' }),
    Object.assign(new Error('x'), { code: `E_${'A'.repeat(40)}` }),
    Object.assign(new Error('x'), { code: 'E_FINE_2' }),
    Object.assign(new Error('x'), { code: { toString: () => 'E_SNEAKY' } }),
  ];
  for (const f of failures) {
    const err = await m.call!(inv, () => Promise.reject(f)).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    t.is(err, f, 'the caller gets the very error');
  }
  t.deepEqual(m.snapshot().services['svc']!.calls.outcomes, { cancelled: 1, E_HANDLER: 4, E_OTHER: 5, E_FINE_2: 1 });
});

fake.serial('stream bytes: null, undefined and functions count 0, a chunk JSON cannot encode counts 0, others their JSON size', async (t) => {
  const m = metrics();
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  const inv = fakeInv({ kind: 'stream' });
  await collect(m.stream!(inv, () => chunks([null, undefined, () => 1, cyclic, { a: 1 }])));
  const s = m.snapshot().services['svc']!.streams;
  t.is(s.chunks, 5);
  t.is(s.bytes, 7, 'only {"a":1}');
});

fake.serial('Prometheus text: counters at zero are left out, the others named as documented, with their help', async (t) => {
  const m = metrics();
  const events = new EventEmitter();
  m.attach!(events as unknown as ExecutorEvents);
  events.emit('rateLimited', { service: 'svc', callId: 'c', waitMs: 5, reason: 'requests', attempt: 1 });
  events.emit('rateLimited', { service: 'svc', callId: 'c', waitMs: 5, reason: 'requests', attempt: 1 });
  events.emit('admitted', { service: 'svc', callId: 'c', at: 0, queueWaitMs: 1500, attempt: 1 });
  const text = await m.prometheus();
  t.regex(text, /^callpool_rate_limited_total\{service="svc"\} 2$/m);
  t.notRegex(text, /callpool_queue_full_total\{/, 'no queue-full refusal: no series');
  t.notRegex(text, /callpool_stream_chunks_total\{/);
  t.regex(text, /^# HELP callpool_call_duration_seconds Time through the middleware below this one until settled$/m);
  t.regex(text, /^# HELP callpool_queue_wait_seconds Time calls waited in the queue before admission$/m);
  t.regex(text, /^callpool_queue_wait_seconds_sum\{service="svc"\} 1\.5$/m);
  t.regex(text, /^callpool_queue_depth 0$/m, 'events without a queue to read: the depth stays 0');
  t.is(m.name, 'metrics');
});

fake.serial('close() stops listening to the executor; closing one never attached is fine', async (t) => {
  t.notThrows(() => metrics().close!());
  const m = metrics();
  const events = new EventEmitter();
  m.attach!(events as unknown as ExecutorEvents);
  events.emit('queueFull', { service: 'svc', capacity: 1 });
  m.close!();
  events.emit('queueFull', { service: 'svc', capacity: 1 });
  t.is(events.listenerCount('queueFull'), 0);
  t.is(m.snapshot().services['svc']!.queueFull, 1);
});
