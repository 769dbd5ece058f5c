import test from 'ava';
import {
  CallContext,
  DeadlineExceededError,
  Executor,
  LimiterUnavailableError,
  defineService,
  retry,
  type Acquisition,
  type ExecutorEventMap,
  type Limiter,
  type ServiceCall,
} from '../../src/index.js';
import { fakeClockEach, settle } from '../helpers/fake-clock.js';
import { ScriptedLimiter, deferred, notYet, yes, type Deferred } from '../helpers/scripted-limiter.js';
import { echo, flaky, gate } from '../helpers/services.js';

// Admission through the public API, with a limiter whose every answer the test writes (as a
// shared store's would arrive: now, later, or never), on a fake clock: who is asked, when, and
// what a call that waits is told.

const fake = fakeClockEach(test);
const { advance } = fake;


function executor(limiter: Limiter, extra: Partial<ConstructorParameters<typeof Executor>[0] & object> = {}): Executor {
  return new Executor({ pool: { kind: 'inline' }, limits: limiter, ...extra });
}

fake.serial('an asynchronous limiter is asked for one call at a time, in queue order; each call goes in when its answer comes', async (t) => {
  const answers: Deferred<Acquisition>[] = [];
  const limiter = new ScriptedLimiter(() => {
    const d = deferred<Acquisition>();
    answers.push(d);
    return d.promise;
  });
  const ex = executor(limiter);
  const calls = [1, 2, 3].map((n) => ex.submit(echo, n));
  await settle();
  t.is(limiter.asks.length, 1, 'no second question while the first is unanswered');
  t.is(ex.queued, 3);
  answers[0]!.resolve(yes('t1'));
  await settle();
  t.is(calls[0]!.status, 'COMPLETED');
  t.is(calls[1]!.status, 'QUEUED');
  t.is(limiter.asks.length, 2, 'the next head is asked once the answer came');
  answers[1]!.resolve(yes('t2'));
  await settle();
  answers[2]!.resolve(yes('t3'));
  await settle();
  t.deepEqual(calls.map((c) => c.status), ['COMPLETED', 'COMPLETED', 'COMPLETED']);
  t.is(limiter.asks.length, 3);
  t.is(ex.queued, 0);
  await ex.close();
});

fake.serial('a store that fails counts as unavailable: asked again after 100 ms; queued calls past their deadline fail E_LIMITER_UNAVAILABLE, the head and those behind it', async (t) => {
  const limiter = new ScriptedLimiter(() => Promise.reject(new Error('store down')));
  const ex = executor(limiter);
  const limited: ExecutorEventMap['rateLimited'][] = [];
  ex.on('rateLimited', (e) => limited.push(e));
  const t0 = performance.now();
  const a = ex.submit(echo, 1, CallContext.withTimeout('a', 250));
  const b = ex.submit(echo, 2, CallContext.withTimeout('b', 250));
  await settle();
  t.deepEqual(limited.map((e) => [e.callId, e.waitMs, e.reason]), [[a.id, 100, 'unavailable']], 'told once, for the head');
  await advance(99.9);
  t.is(limiter.asks.length, 1);
  await advance(0.1);
  t.is(limiter.asks.length, 2);
  t.true(Math.abs(limiter.asks[1]! - t0 - 100) < 1e-6);
  await advance(150);
  for (const c of [a, b]) {
    const err = await t.throwsAsync(c.result(), { instanceOf: LimiterUnavailableError });
    t.regex(err!.message, /unreachable until the call's deadline passed/);
  }
  t.is(limited.length, 1);
  await ex.close();
});

fake.serial('a queued call past its deadline while the limiter only says "not yet" fails E_DEADLINE (queued), naming the limit it waited for', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 1 ? yes('t1') : notYet(1000, 'tokens')));
  const g = gate();
  const ex = executor(limiter);
  ex.submit(g.service, { id: 1 });
  const head = ex.submit(echo, 2, CallContext.withTimeout('h', 100));
  const behind = ex.submit(echo, 3, CallContext.withTimeout('b', 50));
  await advance(50);
  const e2 = await t.throwsAsync(behind.result(), { instanceOf: DeadlineExceededError });
  t.like(e2, { phase: 'queued' });
  t.is((e2 as DeadlineExceededError).context, undefined, 'it never reached the head: nothing to name');
  await advance(50);
  const e1 = await t.throwsAsync(head.result(), { instanceOf: DeadlineExceededError });
  t.like(e1, { phase: 'queued', context: { waitingFor: 'tokens' } });
  g.resolve(1);
  await ex.close();
});

fake.serial('a queued call past its deadline while the store has not answered says so, with how long the store has been asked', async (t) => {
  const limiter = new ScriptedLimiter(() => new Promise<Acquisition>(() => {}));
  const ex = executor(limiter);
  const c = ex.submit(echo, 1, CallContext.withTimeout('c', 300));
  await advance(300);
  const err = await t.throwsAsync(c.result(), { instanceOf: DeadlineExceededError });
  t.like(err, { phase: 'queued', context: { waitingFor: 'store', storePendingMs: 300 } });
  await ex.close({ drain: false });
});

fake.serial('a queued call past its deadline after the store came back says how long of its wait the store was unreachable', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 1 ? Promise.reject(new Error('store down')) : yes(`t${n}`)));
  const g = gate();
  const ex = executor(limiter, { concurrency: 1 });
  ex.submit(g.service, { id: 1 });
  await settle();
  await advance(30);
  const during = ex.submit(echo, 2, CallContext.withTimeout('during', 200));
  await advance(70);
  t.is(limiter.asks.length, 2, 'asked again 100 ms after the store failed, and it admitted the head');
  const after = ex.submit(echo, 3, CallContext.withTimeout('after', 100));
  await advance(150);
  const e1 = await t.throwsAsync(during.result(), { instanceOf: DeadlineExceededError });
  t.like(e1, { phase: 'queued', context: { storeUnreachableMs: 70 } });
  t.is((e1 as DeadlineExceededError).context?.['waitingFor'], undefined, 'it waited for the slot at the end, not for the store');
  const e2 = await t.throwsAsync(after.result(), { instanceOf: DeadlineExceededError });
  t.is((e2 as DeadlineExceededError).context, undefined, 'queued after the store came back: nothing to name');
  g.resolve(1);
  await ex.close();
});

for (const [how, answer] of [
  ['admits it', yes('granted')],
  ['says not yet', notYet(50)],
] as const) {
  fake.serial(`a call cancelled while the store is asked: when the store ${how}, the next call is asked at once`, async (t) => {
    let pending: Deferred<Acquisition> | undefined;
    const limiter = new ScriptedLimiter((n) => {
      if (n > 1) return yes(`t${n}`);
      pending = deferred<Acquisition>();
      return pending.promise;
    });
    const ex = executor(limiter);
    const ac = new AbortController();
    const first = ex.submit(echo, 1, undefined, { signal: ac.signal });
    const second = ex.submit(echo, 2);
    await settle();
    ac.abort();
    await t.throwsAsync(first.result(), { code: 'E_CANCELLED' });
    t.is(limiter.asks.length, 1, 'still waiting for the answer');
    pending!.resolve(answer);
    await settle();
    t.is(limiter.asks.length, 2);
    t.is(second.status, 'COMPLETED');
    await ex.close();
  });
}

for (const [how, result] of [
  ['returns nothing', () => undefined],
  ['rejects', () => Promise.reject(new Error('store down'))],
] as const) {
  fake.serial(`a slot granted to a call cancelled meanwhile is given back (0 tokens) and placed at that instant; the store ${how}, nothing escapes`, async (t) => {
    let pending: Deferred<Acquisition> | undefined;
    const limiter = new ScriptedLimiter(() => {
      pending = deferred<Acquisition>();
      return pending.promise;
    });
    limiter.reconcileResult = result;
    limiter.sentResult = result;
    const ex = executor(limiter);
    const ac = new AbortController();
    const c = ex.submit(echo, 1, undefined, { signal: ac.signal });
    await settle();
    ac.abort();
    await t.throwsAsync(c.result(), { code: 'E_CANCELLED' });
    await advance(7);
    const at = performance.now();
    pending!.resolve(yes('late'));
    await settle();
    t.deepEqual(limiter.reconciled, [['late', 0]]);
    t.deepEqual(limiter.sentLog, [['late', at]]);
    await ex.close();
  });
}

fake.serial('a limiter without sent(): a slot granted to a cancelled call is still given back', async (t) => {
  let pending: Deferred<Acquisition> | undefined;
  const limiter = new ScriptedLimiter(() => {
    pending = deferred<Acquisition>();
    return pending.promise;
  });
  const bare: Limiter = {
    check: () => limiter.check(),
    acquire: () => limiter.acquire(),
    reconcile: (ticket, tokens) => limiter.reconcile(ticket, tokens),
    pause: () => {},
    observe: () => {},
    close: () => Promise.resolve(),
  };
  const ex = executor(bare);
  const ac = new AbortController();
  const c = ex.submit(echo, 1, undefined, { signal: ac.signal });
  await settle();
  ac.abort();
  await t.throwsAsync(c.result(), { code: 'E_CANCELLED' });
  pending!.resolve(yes('late'));
  await settle();
  t.deepEqual(limiter.reconciled, [['late', 0]]);
  await ex.close();
});

fake.serial('a store\'s "not yet" for the head is told once and asked again after the wait it named, exactly', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 1 ? Promise.resolve(notYet(50)) : Promise.resolve(yes(`t${n}`))));
  const ex = executor(limiter);
  const limited: ExecutorEventMap['rateLimited'][] = [];
  ex.on('rateLimited', (e) => limited.push(e));
  const t0 = performance.now();
  const c = ex.submit(echo, 1);
  await settle();
  t.deepEqual(limited.map((e) => [e.waitMs, e.reason]), [[50, 'requests']]);
  await advance(49.99);
  t.is(limiter.asks.length, 1);
  await advance(0.01);
  t.is(limiter.asks.length, 2);
  t.true(Math.abs(limiter.asks[1]! - t0 - 50) < 1e-6);
  t.is(c.status, 'COMPLETED');
  await ex.close();
});

fake.serial('while the head waits for its instant nothing asks the limiter again: not a new call, not a call cancelled behind it, not a running call ending; the head leaving does, at once', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 1 ? yes('t1') : n === 2 ? notYet(500) : yes(`t${n}`)));
  // No send reports: a placed slot would rightly ask the limiter again (see the refund test).
  limiter.holdsTickets = false;
  const g = gate();
  const ex = executor(limiter);
  ex.submit(g.service, { id: 1 });
  const ac = new AbortController();
  const head = ex.submit(echo, 2, undefined, { signal: ac.signal });
  await settle();
  t.is(limiter.asks.length, 2);
  ex.submit(echo, 3);
  const ac4 = new AbortController();
  const fourth = ex.submit(echo, 4, undefined, { signal: ac4.signal });
  await settle();
  t.is(limiter.asks.length, 2, 'a new call joins the tail without a question');
  ac4.abort();
  await t.throwsAsync(fourth.result(), { code: 'E_CANCELLED' });
  t.is(limiter.asks.length, 2, 'a call behind the head leaves without a question');
  g.resolve(1);
  await settle();
  t.is(limiter.asks.length, 2, 'a slot freed while the head waits for rate capacity asks nothing');
  t.is(ex.queued, 2);
  ac.abort();
  await t.throwsAsync(head.result(), { code: 'E_CANCELLED' });
  await settle();
  t.is(limiter.asks.length, 3, 'the new head is asked at once');
  t.is(ex.queued, 0);
  await ex.close();
});

fake.serial('a refund or a send report while the head waits lets it in at once; with nobody waiting they ask nothing', async (t) => {
  // Estimates 10 tokens, reports 1 used: the limiter is reconciled with less, a refund.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const svc = defineService<number, unknown>({ name: 'light', estimateTokens: () => 10, tokensFromResult: () => 1, handler: { call: async (n) => (n === 2 ? held.then(() => n) : n) } });
  const limiter = new ScriptedLimiter((n) => (n === 3 ? notYet(1000, 'tokens') : yes(`t${n}`)));
  limiter.holdsTickets = false;
  const ex = executor(limiter);
  t.is(await ex.call(svc, 1), 1);
  t.deepEqual(limiter.reconciled, [['t1', 1]]);
  t.is(limiter.asks.length, 1, 'nobody waited: the refund asked nothing');
  const second = ex.submit(svc, 2);
  await settle();
  const third = ex.submit(svc, 3);
  await settle();
  t.is(limiter.asks.length, 3);
  t.is(third.status, 'QUEUED');
  release();
  await second.result();
  await settle();
  t.is(limiter.asks.length, 4, 'asked again at the refund, not at the timer');
  t.is(third.status, 'COMPLETED');
  t.deepEqual(limiter.reconciled, [['t1', 1], ['t2', 1], ['t4', 1]]);
  // A send report places a held slot: the waiting head is asked again then too.
  const sends = new ScriptedLimiter((n) => (n === 2 ? notYet(1000) : yes(`s${n}`)));
  const ex2 = executor(sends);
  const g = gate();
  ex2.submit(g.service, { id: 1 });
  await settle();
  t.is(sends.sentLog.length, 0, 'a handler that never says when it sent is held until it ends');
  ex2.submit(echo, 2);
  await settle();
  t.is(sends.asks.length, 2);
  g.resolve(1);
  await settle();
  t.is(sends.sentLog[0]?.[0], 's1');
  t.is(sends.asks.length, 3, 'the ended call placed its slot: the head is asked at once');
  await Promise.all([ex.close(), ex2.close()]);
});

fake.serial('a retry waiting for rate capacity counts as running, not queued, and goes in at the instant named', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 2 ? notYet(50) : yes(`t${n}`)));
  const ex = executor(limiter, { middleware: [retry({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 })] });
  const c = ex.submit(flaky(1).service, {}, CallContext.withTimeout('r', 1000));
  await settle();
  await advance(1);
  t.is(limiter.asks.length, 2);
  t.is(ex.queued, 0);
  t.is(ex.running, 1);
  const other = ex.submit(echo, 'x');
  await settle();
  t.is(ex.queued, 1, 'a first attempt behind the retry is queued');
  await advance(50);
  t.is(await c.result(), 2);
  await settle();
  t.is(other.status, 'COMPLETED');
  t.is(ex.queued, 0);
  t.is(ex.running, 0);
  await ex.close();
});

fake.serial('a retry cancelled while it waits for rate capacity leaves the counts right', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 2 ? notYet(500) : yes(`t${n}`)));
  const ex = executor(limiter, { middleware: [retry({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 })] });
  const ac = new AbortController();
  const c = ex.submit(flaky(1).service, {}, undefined, { signal: ac.signal });
  await settle();
  await advance(1);
  t.is(limiter.asks.length, 2);
  ac.abort();
  await t.throwsAsync(c.result(), { code: 'E_CANCELLED' });
  t.is(ex.queued, 0);
  t.is(ex.running, 0);
  const g = gate();
  ex.submit(g.service, { id: 1 });
  const next = ex.submit(g.service, { id: 2 });
  await settle();
  t.is(ex.running, 2, 'no concurrency limit: both run');
  t.is(ex.queued, 0);
  g.resolve(1);
  g.resolve(2);
  t.is(await next.result(), 2);
  await ex.close();
});

fake.serial('a retry whose wait for rate capacity reaches its deadline fails at once (retry phase), the wait and what was left in its context', async (t) => {
  let deadline = 0;
  // The wait ends exactly at the deadline: not in time either.
  const limiter = new ScriptedLimiter((n) => (n === 2 ? notYet(deadline - performance.now()) : yes(`t${n}`)));
  const ex = executor(limiter, { middleware: [retry({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 })] });
  const ctx = CallContext.withTimeout('r', 400);
  deadline = ctx.deadline!;
  const c: ServiceCall<number> = ex.submit(flaky(1).service, {}, ctx);
  await settle();
  await advance(1);
  const err = await t.throwsAsync(c.result(), { instanceOf: DeadlineExceededError });
  t.like(err, { phase: 'retry', context: { waitingFor: 'requests' } });
  const context = (err as DeadlineExceededError).context as { waitMs: number; remainingMs: number };
  t.true(Math.abs(context.waitMs - 399) < 1e-6, `waitMs ${context.waitMs}`);
  t.true(Math.abs(context.remainingMs - 399) < 1e-6, `remainingMs ${context.remainingMs}`);
  await ex.close();
});

fake.serial('a retry waiting on an unreachable store is not failed early; at its deadline it fails E_LIMITER_UNAVAILABLE', async (t) => {
  const limiter = new ScriptedLimiter((n) => (n === 1 ? yes('t1') : notYet(100, 'unavailable')));
  const ex = executor(limiter, { middleware: [retry({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 })] });
  const c = ex.submit(flaky(1).service, {}, CallContext.withTimeout('r', 250));
  await settle();
  await advance(1);
  t.is(c.status, 'EXECUTING', 'a 100 ms wait on a 250 ms deadline: not failed early');
  await advance(249);
  await t.throwsAsync(c.result(), { instanceOf: LimiterUnavailableError });
  await ex.close();
});

fake.serial('a store\'s late "not yet" for a call that is no longer the head (a retry went in front) asks again for the new head at once', async (t) => {
  let pendingB: Deferred<Acquisition> | undefined;
  const limiter = new ScriptedLimiter((n) => {
    if (n === 2) {
      pendingB = deferred<Acquisition>();
      return pendingB.promise;
    }
    return yes(`t${n}`);
  });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let runs = 0;
  const failsOnceLater = defineService<unknown, number>({
    name: 'later',
    handler: {
      call: async () => {
        if (++runs === 1) {
          await held;
          throw Object.assign(new Error('again'), { retryable: true });
        }
        return runs;
      },
    },
  });
  const ex = executor(limiter, { middleware: [retry({ maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 })] });
  const limited: ExecutorEventMap['rateLimited'][] = [];
  ex.on('rateLimited', (e) => limited.push(e));
  const a = ex.submit(failsOnceLater, {});
  await settle();
  const b = ex.submit(echo, 'b');
  await settle();
  t.is(limiter.asks.length, 2, 'b is being asked for');
  release();
  await settle();
  await advance(1);
  // a's retry is now at the head, behind the store's pending answer for b.
  pendingB!.resolve(notYet(5000));
  await settle();
  t.deepEqual(limited, [], 'nobody is told to wait: b is no longer the head');
  t.is(await a.result(), 2, 'the retry was asked for at once and went in');
  await settle();
  t.is(b.status, 'COMPLETED', 'then b, asked again');
  t.is(limiter.asks.length, 4);
  await ex.close();
});
