import test from 'ava';
import { CircuitOpenError, TransportError, defineService } from '../../src/index.js';
import { FailureRatio } from '../../src/middleware/breaker-policy.js';
import { circuitBreaker, type StateChange } from '../../src/middleware/circuit-breaker.js';
import { ManualClock, chunks, collect, fakeInv } from '../helpers/middleware-fakes.js';

const flaky = () => new TransportError('503', 503, { retryable: true });
const fail = async (): Promise<never> => { throw flaky(); };
const succeed = async () => 'ok';

test('breaker: trips after N consecutive retryable failures, then rejects at once with CircuitOpenError', async (t) => {
  const clock = new ManualClock();
  const changes: StateChange[] = [];
  const b = circuitBreaker({ trip: { consecutive: 3 }, openMs: 1000, clock: clock.now, onStateChange: (c) => changes.push(c) });
  const inv = fakeInv();
  await t.throwsAsync(b.call!(inv, fail));
  await t.throwsAsync(b.call!(inv, fail));
  t.is(await b.call!(inv, succeed), 'ok'); // a success resets the run
  await t.throwsAsync(b.call!(inv, fail));
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'closed');
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'open');
  let ran = 0;
  clock.advance(400);
  const err = await t.throwsAsync(b.call!(inv, async () => ++ran), { instanceOf: CircuitOpenError });
  t.is(err!.code, 'E_CIRCUIT_OPEN');
  t.is(err!.retryAfterMs, 600);
  t.is(ran, 0);
  t.deepEqual(changes.map((c) => [c.from, c.to, c.at]), [['closed', 'open', 0]]);
});

test('breaker: only retryable failures count; a 4xx never trips it', async (t) => {
  const b = circuitBreaker({ trip: { consecutive: 2 }, clock: new ManualClock().now });
  const inv = fakeInv();
  for (let i = 0; i < 10; i++) await t.throwsAsync(b.call!(inv, async () => { throw new TransportError('400', 400); }));
  t.is(b.state('svc'), 'closed');
});

test('breaker: half-open admits the configured probes, closes after M successes, reopens on a failure', async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { consecutive: 1 }, openMs: 1000, halfOpenProbes: 2, closeAfter: 2, clock: clock.now });
  const inv = fakeInv();
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'open');
  clock.advance(1000);
  t.is(b.state('svc'), 'half-open');
  // Two probes in flight at once; a third is refused.
  let release!: () => void;
  const held = new Promise<string>((r) => (release = () => r('ok')));
  const p1 = b.call!(inv, () => held);
  const p2 = b.call!(inv, () => held);
  await t.throwsAsync(b.call!(inv, succeed), { instanceOf: CircuitOpenError });
  release();
  await Promise.all([p1, p2]);
  t.is(b.state('svc'), 'closed');
  // Trip again; a failed probe opens it for another openMs.
  await t.throwsAsync(b.call!(inv, fail));
  clock.advance(1000);
  await t.throwsAsync(b.call!(inv, fail), { code: 'E_TRANSPORT' });
  t.is(b.state('svc'), 'open');
  clock.advance(999);
  await t.throwsAsync(b.call!(inv, succeed), { instanceOf: CircuitOpenError });
  clock.advance(1);
  t.is(await b.call!(inv, succeed), 'ok');
  t.is(b.state('svc'), 'half-open'); // one success of the two needed
  t.is(await b.call!(inv, succeed), 'ok');
  t.is(b.state('svc'), 'closed');
});

test('breaker: a non-retryable outcome of a probe frees its slot without closing or opening', async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { consecutive: 1 }, openMs: 10, clock: clock.now });
  const inv = fakeInv();
  await t.throwsAsync(b.call!(inv, fail));
  clock.advance(10);
  await t.throwsAsync(b.call!(inv, async () => { throw new TransportError('404', 404); }), { code: 'E_TRANSPORT' });
  t.is(b.state('svc'), 'half-open');
  t.is(await b.call!(inv, succeed), 'ok');
  t.is(b.state('svc'), 'closed');
});

test('breaker: failure ratio over a rolling window with a minimum volume', async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { ratio: 0.5, windowMs: 1000, minVolume: 4 }, clock: clock.now });
  const inv = fakeInv();
  await t.throwsAsync(b.call!(inv, fail));
  await t.throwsAsync(b.call!(inv, fail));
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'closed'); // 3 < minVolume
  clock.advance(2000); // those fall out of the window
  await b.call!(inv, succeed);
  await b.call!(inv, succeed);
  await b.call!(inv, succeed);
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'closed'); // 1 of 4
  await t.throwsAsync(b.call!(inv, fail));
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'open'); // 3 of 6

  const p = new FailureRatio({ ratio: 1, windowMs: 100, minVolume: 1, buckets: 4 });
  t.true(p.failure(0));
  p.reset();
  p.success(0);
  t.false(p.failure(50));
  t.true(p.failure(1000));
});

test('breaker: one circuit per service; an outcome from before a state change is not counted', async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { consecutive: 1 }, openMs: 100, clock: clock.now });
  const other = defineService({ name: 'other', handler: { call: () => 1 } });
  let release!: () => void;
  const slow = b.call!(fakeInv(), () => new Promise((r) => (release = () => r('late'))));
  await t.throwsAsync(b.call!(fakeInv(), fail));
  t.is(await b.call!(fakeInv({ service: other }), succeed), 'ok');
  t.deepEqual(b.states(), { svc: 'open', other: 'closed' });
  release();
  t.is(await slow, 'late');
  t.is(b.state('svc'), 'open'); // the late success of a call admitted while closed does not close it
});

test('breaker: streams pass chunk by chunk; a mid-stream failure counts; leaving early does not', async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { consecutive: 2 }, openMs: 100, clock: clock.now });
  const inv = fakeInv({ kind: 'stream' });
  t.deepEqual(await collect(b.stream!(inv, () => chunks([1, 2, 3]))), [1, 2, 3]);
  await t.throwsAsync(collect(b.stream!(inv, () => chunks([1], flaky()))), { code: 'E_TRANSPORT' });
  // Leaving early is neither success nor failure.
  for await (const c of b.stream!(inv, () => chunks([1, 2, 3]))) if (c === 1) break;
  t.is(b.state('svc'), 'closed');
  await t.throwsAsync(collect(b.stream!(inv, () => chunks([1, 2], flaky()))), { code: 'E_TRANSPORT' });
  t.is(b.state('svc'), 'open');
  let started = 0;
  await t.throwsAsync(collect(b.stream!(inv, () => (started++, chunks([1])))), { instanceOf: CircuitOpenError });
  t.is(started, 0);
  // Half-open: a stream the consumer leaves frees the probe slot.
  clock.advance(100);
  for await (const c of b.stream!(inv, () => chunks([1, 2]))) if (c === 1) break;
  t.is(b.state('svc'), 'half-open');
  t.deepEqual(await collect(b.stream!(inv, () => chunks([7]))), [7]);
  t.is(b.state('svc'), 'closed');
});

// Serial: it measures the process's heap.
test.serial('breaker: 100 chunks of 1 MB pass through without buffering (heap growth < 15 MB)', async (t) => {
  const gc = (globalThis as { gc?: () => void }).gc;
  t.truthy(gc, 'run with --expose-gc');
  const b = circuitBreaker();
  async function* big() {
    for (let i = 0; i < 100; i++) yield Buffer.alloc(1 << 20, i);
  }
  gc!();
  const base = process.memoryUsage();
  let peak = 0;
  let n = 0;
  for await (const c of b.stream!(fakeInv({ kind: 'stream' }), big)) {
    n += (c as Buffer).length;
    if (n % (10 << 20) === 0) {
      gc!();
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
    }
  }
  t.is(n, 100 << 20);
  t.true(peak < 15 << 20, `grew ${(peak / 1e6).toFixed(1)} MB`);
});

test('breaker options are checked, naming the option', (t) => {
  t.throws(() => circuitBreaker({ trip: { consecutive: 0 } }), { code: 'E_CONFIG', message: /trip.consecutive/ });
  t.throws(() => circuitBreaker({ trip: { ratio: 1.5 } }), { code: 'E_CONFIG', message: /trip.ratio/ });
  t.throws(() => circuitBreaker({ halfOpenProbes: 0, openMs: -1 }), { code: 'E_CONFIG', message: /openMs.*halfOpenProbes|halfOpenProbes.*openMs/ });
});

test('breaker: closing resets the trip count, so a closed circuit starts from zero failures', async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { consecutive: 2 }, openMs: 100, clock: clock.now });
  const inv = fakeInv();
  await t.throwsAsync(b.call!(inv, fail));
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'open');
  clock.advance(100);
  t.is(await b.call!(inv, succeed), 'ok', 'the probe succeeds');
  t.is(b.state('svc'), 'closed');
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'closed', 'one failure after closing is one, not three');
});

test('breaker: late outcomes of calls admitted before a state change count neither as success nor as failure', async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { consecutive: 2 }, openMs: 100, clock: clock.now });
  const inv = fakeInv();
  const late: { ok: () => void; bad: () => void }[] = [];
  const slow = (): Promise<unknown> =>
    new Promise((resolve, reject) => late.push({ ok: () => resolve('late'), bad: () => reject(flaky()) }));
  const slowOk = b.call!(inv, slow);
  const slowBad = b.call!(inv, slow);
  await t.throwsAsync(b.call!(inv, fail));
  await t.throwsAsync(b.call!(inv, fail));
  clock.advance(100);
  await b.call!(inv, succeed);
  t.is(b.state('svc'), 'closed');
  await t.throwsAsync(b.call!(inv, fail));
  // A late success would reset the run of failures; a late failure would complete it.
  late[0]!.ok();
  await slowOk;
  t.is(b.state('svc'), 'closed');
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'open', 'the late success did not reset the run');
  clock.advance(100);
  await b.call!(inv, succeed);
  await t.throwsAsync(b.call!(inv, fail));
  late[1]!.bad();
  await t.throwsAsync(slowBad);
  t.is(b.state('svc'), 'closed', 'the late failure was not counted');
});

test("breaker: a probe released from an older half-open period frees no slot in the current one", async (t) => {
  const clock = new ManualClock();
  const b = circuitBreaker({ trip: { consecutive: 1 }, openMs: 100, halfOpenProbes: 2, clock: clock.now });
  const inv = fakeInv();
  const sinv = fakeInv({ kind: 'stream' });
  await t.throwsAsync(b.call!(inv, fail));
  clock.advance(100);
  // Probe 1: a stream the consumer will leave later; probe 2 fails and opens the circuit again.
  const old = b.stream!(sinv, () => chunks([1, 2, 3]))[Symbol.asyncIterator]();
  t.deepEqual(await old.next(), { done: false, value: 1 });
  await t.throwsAsync(b.call!(inv, fail));
  t.is(b.state('svc'), 'open');
  clock.advance(100);
  const hold: (() => void)[] = [];
  const held = (): Promise<string> => new Promise((r) => hold.push(() => r('ok')));
  const p1 = b.call!(inv, held);
  const p2 = b.call!(inv, held);
  await old.return!();
  const refused = await t.throwsAsync(b.call!(inv, succeed), { instanceOf: CircuitOpenError });
  t.deepEqual(refused!.context, { state: 'half-open', probesInFlight: 2 });
  for (const h of hold) h();
  await Promise.all([p1, p2]);
});

test('breaker: CircuitOpenError says which state refused; state() of a circuit never seen is closed; name, on/off and a custom trip policy', async (t) => {
  const clock = new ManualClock();
  let made = 0;
  const b = circuitBreaker({
    trip: () => {
      made++;
      return { failure: () => true, success: () => undefined, reset: () => undefined };
    },
    openMs: 100,
    clock: clock.now,
  });
  t.is(b.name, 'circuitBreaker');
  t.is(b.state('never-seen'), 'closed');
  t.deepEqual(b.states(), {});
  const seen: string[] = [];
  const listener = (c: StateChange): number => seen.push(`${c.from}->${c.to}`);
  t.is(b.on('stateChange', listener), b);
  const inv = fakeInv();
  await t.throwsAsync(b.call!(inv, fail));
  t.is(made, 1, 'the custom policy made the decision');
  t.is(b.state('svc'), 'open', 'one failure trips the custom policy');
  const err = await t.throwsAsync(b.call!(inv, succeed), { instanceOf: CircuitOpenError });
  t.deepEqual(err!.context, { state: 'open' });
  t.is(b.off('stateChange', listener), b);
  clock.advance(100);
  t.is(b.state('svc'), 'half-open');
  t.deepEqual(seen, ['closed->open'], 'removed before the move to half-open');
});
