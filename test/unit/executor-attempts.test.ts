import test from 'ava';
import { CallContext, defineService, Executor, retry, type ExecutorEventMap } from '../../src/index.js';
import { fakeClockEach, settle, track } from '../helpers/fake-clock.js';
import { flaky } from '../helpers/services.js';

// The tests of rate waits run on a fake clock: each instant is checked exactly, and a loop held
// by other work in the process cannot carry a retry past the window it should wait for.
const fake = fakeClockEach(test);

test('every retry is admitted through the same queue and announced like a first attempt', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 100, windowMs: 1000 } }, middleware: [retry({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 })] });
  t.teardown(() => ex.close());
  const admitted: ExecutorEventMap['admitted'][] = [];
  ex.on('admitted', (e) => admitted.push(e));
  const f = flaky(2);
  t.is(await ex.call(f.service, {}, CallContext.new('b')), 3);
  t.deepEqual(admitted.map((e) => e.attempt), [1, 2, 3]);
  t.true(admitted.every((e, i) => i === 0 || e.at >= admitted[i - 1]!.at));
  t.is(ex.stats().completed, 1);
});

fake.serial('a retry waiting for rate capacity is announced by rateLimited, and charged to the limit', async (t) => {
  // One request per second: the retry must wait for the first attempt's slot to leave the window.
  const windowMs = 1000;
  const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 1, windowMs } }, middleware: [retry({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 })] });
  t.teardown(() => ex.close());
  const limited: ExecutorEventMap['rateLimited'][] = [];
  const admitted: ExecutorEventMap['admitted'][] = [];
  ex.on('rateLimited', (e) => limited.push(e));
  ex.on('admitted', (e) => admitted.push(e));
  const result = ex.call(flaky(1).service, {}, CallContext.new('b'));
  await settle(); // the first attempt fails and the retry's backoff (1-2 ms) starts
  await fake.advance(5);
  t.deepEqual(limited.map((e) => [e.reason, e.attempt]), [['requests', 2]], 'the retry asked, and was told to wait');
  t.deepEqual(admitted.map((e) => e.attempt), [1]);
  await fake.advance(windowMs - 6);
  t.is(admitted.length, 1, 'not inside the window');
  await fake.advance(1);
  t.is(await result, 2);
  t.deepEqual(admitted.map((e) => e.attempt), [1, 2]);
  t.is(admitted[1]!.at - admitted[0]!.at, windowMs, 'at the instant the first slot left the window');
  t.is(ex.stats().rateLimitedWaits, 1);
});

test('a retry goes before calls that were queued first, and keeps its concurrency slot', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' }, concurrency: 1, middleware: [retry({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 })] });
  t.teardown(() => ex.close());
  const order: string[] = [];
  ex.on('admitted', (e) => order.push(`${e.callId}#${e.attempt}`));
  const f = flaky(1);
  const a = ex.submit(f.service, {}, CallContext.new('b'));
  const others = [ex.submit(f.service, {}, CallContext.new('b')), ex.submit(f.service, {}, CallContext.new('b'))];
  t.is(await a.result(), 2);
  await Promise.all(others.map((c) => c.result()));
  t.deepEqual(order, [`${a.id}#1`, `${a.id}#2`, `${others[0]!.id}#1`, `${others[1]!.id}#1`]);
});

test('the ServiceCall that submit returns carries no queue, heap, ticket or abort internals', (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  const call = ex.submit(flaky(0).service, {}, CallContext.new('b'));
  for (const key of ['prev', 'next', 'heapIndex', 'ticket', 'controller', 'onAbort', 'abort', 'signal']) t.false(key in call, key);
});

fake.serial("guard: 'auto' widens the windows by the measured dispatch jitter, reported in stats().dispatch", async (t) => {
  // The handler's request leaves 40 ms after it starts: slots must land 40 ms later than stamped.
  const late = defineService({
    name: 'late',
    handler: {
      call: async (_req: unknown, ctx: { sent?: () => void }) => {
        await new Promise((r) => setTimeout(r, 40));
        ctx.sent?.();
        return 'ok';
      },
    },
  });
  const windowMs = 150;
  const run = async (guard: boolean) => {
    const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 1, windowMs } }, ...(guard ? { guard: 'auto' as const } : {}) });
    const at: number[] = [];
    ex.on('admitted', (e) => at.push(e.at));
    for (let i = 0; i < 4; i++) {
      const call = track(ex.call(late, {}, CallContext.new('b')));
      while (!call.done) await fake.advance(1);
      if (call.error !== undefined) throw call.error;
    }
    const stats = ex.stats();
    await ex.close();
    return { gaps: at.slice(1).map((a, i) => a - at[i]!), stats };
  };
  const plain = await run(false);
  const guarded = await run(true);
  t.true(plain.stats.dispatch.sendDelay.p50 >= 35, `send delay p50 ${plain.stats.dispatch.sendDelay.p50}`);
  // Send-time accounting alone places each slot where its request left, 40 ms after its
  // admission: the next admission comes one window after that. The guard adds the measured
  // jitter (about 40 ms more) on top, once it has a measurement.
  t.true(plain.gaps.every((g) => g >= windowMs + 35), plain.gaps.join(', '));
  t.true(guarded.gaps.slice(1).every((g) => g >= windowMs + 70), guarded.gaps.join(', '));
  t.true(Math.min(...plain.gaps) < windowMs + 70, plain.gaps.join(', '));
});

test('guard: a number of ms widens every window by that much from the first admission; out of [0, 60000] or not a number is E_CONFIG naming /guard', async (t) => {
  const windowMs = 100;
  const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 1, windowMs } }, guard: 30 });
  t.teardown(() => ex.close());
  const at: number[] = [];
  ex.on('admitted', (e) => at.push(e.at));
  const quick = defineService({ name: 'quick', handler: { call: async () => 'ok' } });
  for (let i = 0; i < 3; i++) await ex.call(quick, {}, CallContext.new('g'));
  const gaps = at.slice(1).map((a, i) => a - at[i]!);
  t.true(gaps.every((g) => g >= windowMs + 30), gaps.join(', '));
  for (const guard of [-1, 60_001, Number.NaN, '5', null]) {
    const err = t.throws(() => new Executor({ pool: { kind: 'inline' }, guard: guard as never })) as unknown as { code: string; issues: { path: string }[] };
    t.is(err.code, 'E_CONFIG');
    t.true(err.issues.some((i) => i.path === '/guard'), JSON.stringify(err.issues));
  }
});

test("guard: 'auto' with a Limiter object that cannot widen is a configuration error", (t) => {
  const fixed = { acquire: () => ({ admitted: true as const, ticket: undefined }), reconcile: () => {}, pause: () => {}, observe: () => {}, check: () => {}, close: async () => {} };
  t.throws(() => new Executor({ pool: { kind: 'inline' }, limits: fixed, guard: 'auto' }), { code: 'E_CONFIG' });
  // Without `limits` the executor's own limiter (it honours provider headers) can widen.
  t.notThrows(() => new Executor({ pool: { kind: 'inline' }, guard: 'auto' }).close());
});

fake.serial('a retry waiting for rate capacity counts as running, not queued: the stats identity holds', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 1, windowMs: 1000 } }, middleware: [retry({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 })] });
  t.teardown(() => ex.close());
  let seen = false;
  ex.on('rateLimited', (e) => {
    if (e.attempt !== 2) return;
    seen = true;
    const s = ex.stats();
    t.is(s.queued, 0);
    t.is(s.running, 1);
    t.is(s.accepted, s.completed + s.failed + s.cancelled + s.queued + s.running);
  });
  const result = ex.call(flaky(1).service, {}, CallContext.new('b'));
  await settle();
  await fake.advance(5);
  t.true(seen, 'the retry asked inside the window');
  await fake.advance(995);
  t.is(await result, 2);
  t.true(seen);
});
