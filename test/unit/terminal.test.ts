import test from 'ava';
import { CallContext, Executor, MemoryLimiter, defineService, metaOnly, retry, withMeta, type HandlerContext, type Pool, type Ticket } from '../../src/index.js';
import type { PoolTask } from '../../src/pool/types.js';
import { Recording } from '../helpers/door.js';
import { ScriptedLimiter, yes } from '../helpers/scripted-limiter.js';

// The innermost step of an attempt, through the public API: what the limiter is told about each
// admission (send instant, usage), what the handler is given, what the caller gets back.

/** A pool that runs nothing and never reports a send instant; answers as each request says. */
function silentPool(tasks: PoolTask[]): Pool {
  return {
    kind: 'silent',
    run(task) {
      tasks.push(task);
      const mode = task.request as string;
      if (mode === 'throw') throw Object.assign(new Error('thrown'), { code: 'E_HANDLER' });
      if (mode === 'reject') return Promise.reject(Object.assign(new Error('rejected'), { code: 'E_HANDLER' }));
      if (mode === 'resolve') return Promise.resolve('resolved');
      return 'value';
    },
    stream() {
      throw new Error('no streams here');
    },
    close: () => Promise.resolve(),
  };
}

/** A limiter that counts every send report per ticket and every holds() question. */
class CountingReports extends Recording {
  readonly reports = new Map<Ticket, number>();
  holdsAsked = 0;
  override sent(ticket: Ticket, at: number): void | Promise<void> {
    this.reports.set(ticket, (this.reports.get(ticket) ?? 0) + 1);
    return super.sent(ticket, at);
  }
  override holds(ticket: Ticket): boolean {
    this.holdsAsked++;
    return super.holds(ticket);
  }
}

const any = defineService<string, string>({ name: 'any', module: new URL('file:///nowhere.js') });

test('a pool that never reports when it sent: each held slot is placed when its attempt ends (value, throw, resolve, reject)', async (t) => {
  const limiter = new ScriptedLimiter((n) => yes(`t${n}`));
  const tasks: PoolTask[] = [];
  const ex = new Executor({ pool: silentPool(tasks), limits: limiter });
  t.teardown(() => ex.close());
  for (const mode of ['value', 'throw', 'resolve', 'reject']) {
    const before = performance.now();
    await ex.call(any, mode).catch(() => undefined);
    const after = performance.now();
    const ticket = `t${limiter.asks.length}`;
    // The first report places the slot; a limiter ignores any later one for the same ticket.
    const first = limiter.sentLog.find(([tk]) => tk === ticket);
    t.truthy(first, `${mode}: reported`);
    t.true(first![1] >= before && first![1] <= after, `${mode}: placed at its end`);
  }
  t.deepEqual([...new Set(limiter.sentLog.map(([tk]) => tk))], ['t1', 't2', 't3', 't4']);
  t.true(tasks.every((task) => typeof task.onSent === 'function'), 'the pool was asked for the send instant');
});

for (const first of ['throw', 'reject']) {
  test(`a pool that never reports: a retried attempt (${first}) places its own slot when it ends, before the next attempt takes another`, async (t) => {
    const limiter = new ScriptedLimiter((n) => yes(`t${n}`));
    const pool = silentPool([]);
    let runs = 0;
    const once: Pool = { ...pool, run: (task, handle) => pool.run({ ...task, request: ++runs === 1 ? first : 'value' }, handle) };
    const ex = new Executor({ pool: once, limits: limiter, middleware: [retry({ maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0, shouldRetry: () => true })] });
    t.teardown(() => ex.close());
    t.is(await ex.call(any, 'x'), 'value');
    t.deepEqual([...new Set(limiter.sentLog.map(([tk]) => tk))], ['t1', 't2']);
  });
}

test('a ticket that holds no slot: the pool is not asked for a send instant, nothing is reported or measured', async (t) => {
  const limiter = new ScriptedLimiter((n) => yes(`t${n}`));
  limiter.holdsTickets = false;
  const tasks: PoolTask[] = [];
  const ex = new Executor({ pool: silentPool(tasks), limits: limiter });
  t.teardown(() => ex.close());
  for (const mode of ['value', 'throw', 'resolve', 'reject']) await ex.call(any, mode).catch(() => undefined);
  t.deepEqual(limiter.sentLog, []);
  t.true(tasks.every((task) => task.onSent === undefined));
  t.is(ex.stats().dispatch.sendDelay.count, 0);
});

test('a held ticket whose pool reports its send instant: the dispatch jitter is measured', async (t) => {
  const limiter = new ScriptedLimiter((n) => yes(`t${n}`));
  const ex = new Executor({ pool: { kind: 'inline' }, limits: limiter });
  t.teardown(() => ex.close());
  const svc = defineService<number, number>({ name: 'n', handler: { call: (n) => n } });
  for (let i = 0; i < 3; i++) await ex.call(svc, i);
  t.is(ex.stats().dispatch.sendDelay.count, 3);
});

test("a result's usage: the envelope's usage wins over tokensFromResult; tokensFromResult alone counts; with neither, no reconcile", async (t) => {
  const limiter = new ScriptedLimiter((n) => yes(`t${n}`));
  limiter.holdsTickets = false;
  const ex = new Executor({ pool: { kind: 'inline' }, limits: limiter });
  t.teardown(() => ex.close());
  const both = defineService<number, number>({ name: 'both', tokensFromResult: () => 99, handler: { call: (n) => withMeta(n, { usage: { tokens: 5 } }) as never } });
  const fromResult = defineService<number, number>({ name: 'fromResult', tokensFromResult: (v) => v * 2, handler: { call: (n) => n } });
  const neither = defineService<number, number>({ name: 'neither', handler: { call: (n) => n } });
  t.is(await ex.call(both, 1), 1);
  t.is(await ex.call(fromResult, 21), 21);
  t.is(await ex.call(neither, 3), 3);
  t.deepEqual(limiter.reconciled, [
    ['t1', 5],
    ['t2', 42],
  ]);
});

test("a stream's usage is the sum its chunks report (envelopes and tokensFromChunk); chunks with meta only are not yielded; no usage, no reconcile", async (t) => {
  const limiter = new ScriptedLimiter((n) => yes(`t${n}`));
  limiter.holdsTickets = false;
  const ex = new Executor({ pool: { kind: 'inline' }, limits: limiter });
  t.teardown(() => ex.close());
  const metered = defineService<null, string>({
    name: 'metered',
    tokensFromChunk: (c: unknown) => (c === 'b' ? 3 : undefined),
    handler: {
      async *stream() {
        yield withMeta('a', { usage: { tokens: 2 } }) as never;
        yield 'b';
        yield 'c';
        yield metaOnly({ usage: { tokens: 4 } }) as never;
        yield metaOnly({ providerLimits: { remainingRequests: 100, resetRequestsMs: 1000 } }) as never;
      },
    },
  });
  const plain = defineService<null, string>({
    name: 'plain',
    handler: {
      async *stream() {
        yield 'x';
        yield 'y';
      },
    },
  });
  const got: unknown[] = [];
  for await (const c of ex.stream(metered, null)) got.push(c);
  t.deepEqual(got, ['a', 'b', 'c']);
  t.deepEqual(limiter.reconciled, [['t1', 9]]);
  const plainGot: unknown[] = [];
  for await (const c of ex.stream(plain, null)) plainGot.push(c);
  t.deepEqual(plainGot, ['x', 'y']);
  t.deepEqual(limiter.reconciled, [['t1', 9]], 'a stream with no usage reconciles nothing');
});

test("the handler's context: call and branch ids, the deadline as epoch ms (null without one), capabilities, attrs, the service's options", async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  const seen: HandlerContext[] = [];
  const svc = defineService<null, null>({ name: 'ctx', options: { model: 'm' }, handler: { call: (_r, ctx) => (seen.push(ctx), null) } });
  const withDeadline = CallContext.withTimeout('branch-a', 5000, { capabilities: ['net.out:*'], attrs: { user: 'u1' } });
  await ex.call(svc, null, withDeadline);
  await ex.call(svc, null, CallContext.new('branch-b'));
  const [a, b] = seen;
  t.like(a, { callId: withDeadline.callId, branchId: 'branch-a', capabilities: ['net.out:*'], attrs: { user: 'u1' }, options: { model: 'm' } });
  t.true(Math.abs(a!.deadlineEpochMs! - (performance.timeOrigin + withDeadline.deadline!)) < 1e-3, 'the same instant, on the wall clock');
  t.like(b, { branchId: 'branch-b', deadlineEpochMs: null, capabilities: [], attrs: {} });
});

test('a held slot is reported to the limiter once per attempt: the pool\'s send report, not again at the attempt\'s end or at settle', async (t) => {
  const counting = new CountingReports(new MemoryLimiter([{ limit: 1000, windowMs: 60_000 }], []));
  const echo = defineService<string, string>({ name: 'echo-once', handler: { call: (r: string) => r } });
  const ex = new Executor({ pool: { kind: 'inline' }, limits: counting });
  t.teardown(() => ex.close());
  for (let i = 0; i < 20; i++) await ex.call(echo, 'x');
  await Promise.all(Array.from({ length: 20 }, () => ex.call(echo, 'y')));
  t.is(counting.reports.size, 40, 'every admission reported');
  t.deepEqual([...new Set(counting.reports.values())], [1], 'and only once');
  t.true(counting.holdsAsked > 0);
});
