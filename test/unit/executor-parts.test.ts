import test from 'ava';
import fc from 'fast-check';
import { CancelledError, DeadlineExceededError } from '../../src/core/errors.js';
import type { ServiceCallData } from '../../src/core/schemas.js';
import { DispatchJitter } from '../../src/executor/dispatch-jitter.js';
import { EventHub } from '../../src/executor/event-hub.js';
import { LinkedQueue, type QueueNode } from '../../src/executor/linked-queue.js';
import { cancelled, flatten, scrubHistory, statusOf } from '../../src/executor/outcome.js';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import type { Limiter } from '../../src/limits/types.js';

// The executor's small parts, each against what it promises on its own.

interface Node extends QueueNode {
  id: number;
}

const node = (id: number): Node => ({ id, prev: undefined, next: undefined, inQueue: false });

/** The queue's ids head to tail, or 'broken' if its size, head, a back link or a node's flag disagrees. */
function contents(q: LinkedQueue<Node>): number[] | 'broken' {
  const ids = [...q].map((n) => n.id);
  if (ids.length !== q.size || q.head?.id !== ids[0]) return 'broken';
  let back: QueueNode | undefined;
  let count = 0;
  for (let n: QueueNode | undefined = q.head; n; n = n.next) {
    if (n.prev !== back || !n.inQueue) return 'broken';
    back = n;
    count++;
  }
  return count === ids.length ? ids : 'broken';
}

test('LinkedQueue: push, unshift and removal anywhere keep the order, the links, the size and the head (against an array)', (t) => {
  type Op = { kind: 'push' } | { kind: 'unshift' } | { kind: 'remove'; pick: number } | { kind: 'removeGone'; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ kind: 'push' as const }),
    fc.constant({ kind: 'unshift' as const }),
    fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('removeGone' as const), pick: fc.nat() }),
  );
  const run = fc.check(
    fc.property(fc.array(op, { maxLength: 120 }), (ops: Op[]) => {
      const q = new LinkedQueue<Node>();
      const model: Node[] = [];
      const gone: Node[] = [node(-1)];
      let id = 0;
      for (const o of ops) {
        if (o.kind === 'push') {
          const n = node(id++);
          q.push(n);
          model.push(n);
        } else if (o.kind === 'unshift') {
          const n = node(id++);
          q.unshift(n);
          model.unshift(n);
        } else if (o.kind === 'remove') {
          if (model.length === 0) continue;
          const [n] = model.splice(o.pick % model.length, 1);
          if (!q.remove(n!)) return false;
          if (n!.inQueue || n!.prev !== undefined || n!.next !== undefined) return false;
          gone.push(n!);
        } else {
          // Removing a node that is not in the queue changes nothing and says so.
          if (q.remove(gone[o.pick % gone.length]!)) return false;
        }
        const ids = contents(q);
        if (ids === 'broken' || JSON.stringify(ids) !== JSON.stringify(model.map((n) => n.id))) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.false(run.failed, fc.defaultReportMessage(run));
  t.is(run.numRuns, 300);
});

test('LinkedQueue: a node removed and pushed again is at the tail with fresh links; the last node out empties head and tail', (t) => {
  const q = new LinkedQueue<Node>();
  const [a, b, c] = [node(1), node(2), node(3)];
  q.push(a);
  q.push(b);
  q.push(c);
  t.true(q.remove(a));
  q.push(a);
  t.deepEqual(contents(q), [2, 3, 1]);
  t.is(a.next, undefined);
  t.true(q.remove(b));
  t.true(q.remove(c));
  t.true(q.remove(a));
  t.is(q.head, undefined);
  t.is(q.size, 0);
  // Empty again: both ends must have been cleared for a push to make a one-node queue.
  q.unshift(b);
  t.deepEqual(contents(q), [2]);
  q.push(c);
  t.deepEqual(contents(q), [2, 3]);
  t.is(b.next, c);
  t.is(c.prev, b);
});

test('EventHub: listening says which events have listeners, through on/off of several listeners; other names and listeners that are no function are refused', (t) => {
  const hub = new EventHub();
  t.deepEqual(hub.listening, { queueFull: false, rateLimited: false, admitted: false, settled: false });
  const seen: string[] = [];
  const one = (): number => seen.push('one');
  const two = (): number => seen.push('two');
  hub.on('settled', one);
  hub.on('settled', two);
  hub.on('admitted', one);
  t.deepEqual(hub.listening, { queueFull: false, rateLimited: false, admitted: true, settled: true });
  hub.off('settled', one);
  t.true(hub.listening.settled, 'one listener is left');
  hub.emit('settled', { service: 's', callId: 'c', status: 'COMPLETED', runMs: 0 });
  t.deepEqual(seen, ['two']);
  hub.off('settled', two);
  t.false(hub.listening.settled, 'none left');
  t.true(hub.listening.admitted, 'another event is untouched');
  hub.emit('settled', { service: 's', callId: 'c', status: 'COMPLETED', runMs: 0 });
  t.deepEqual(seen, ['two']);
  t.deepEqual(Object.keys(hub.listening).sort(), ['admitted', 'queueFull', 'rateLimited', 'settled']);
  // A name that is not an executor event (passed through a cast), or a listener that is not a
  // function, is refused naming the argument, and nothing is tracked.
  const untracked = 'somethingElse' as 'settled';
  t.like(t.throws(() => hub.on(untracked, one)), { code: 'E_VALIDATION', issues: [{ path: '/event', rule: 'enum' }] });
  t.like(t.throws(() => hub.off(untracked, one)), { code: 'E_VALIDATION', issues: [{ path: '/event', rule: 'enum' }] });
  t.like(t.throws(() => hub.on('settled', 'x' as never)), { code: 'E_VALIDATION', issues: [{ path: '/listener', rule: 'type' }] });
  t.deepEqual(hub.listening, { queueFull: false, rateLimited: false, admitted: true, settled: false });
});

// Serial: it listens for process-wide warnings.
test.serial('EventHub: a throwing listener never reaches the emitter (the listeners before it have run); many listeners raise no warning', (t) => {
  const hub = new EventHub();
  const seen: number[] = [];
  hub.on('queueFull', () => seen.push(1));
  hub.on('queueFull', () => {
    throw new Error('listener bug');
  });
  t.notThrows(() => hub.emit('queueFull', { service: 's', capacity: 1 } as never));
  t.deepEqual(seen, [1]);
  const warnings: Error[] = [];
  const onWarning = (w: Error): number => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  for (let i = 0; i < 20; i++) hub.on('admitted', () => undefined);
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      t.deepEqual(warnings.map((w) => w.name), [], 'no MaxListenersExceededWarning');
      resolve();
    }),
  );
});

test('DispatchJitter: send and report delays are measured apart (negative spans count as 0); p99Ms is their sum', (t) => {
  const j = new DispatchJitter();
  t.deepEqual(j.snapshot().sendDelay.count, 0);
  t.is(j.p99Ms, 0);
  j.record(100, 103, 104.5);
  const s = j.snapshot();
  t.is(s.sendDelay.count, 1);
  t.true(Math.abs(s.sendDelay.max - 3) < 0.05, `send ${s.sendDelay.max}`);
  t.true(Math.abs(s.reportDelay.max - 1.5) < 0.05, `report ${s.reportDelay.max}`);
  t.true(Math.abs(j.p99Ms - 4.5) < 0.1, `p99 ${j.p99Ms}`);
  // Two threads' clocks: a send stamped before its admission, a report before its send.
  j.record(200, 199, 198);
  const after = j.snapshot();
  t.is(after.sendDelay.count, 2);
  t.true(after.sendDelay.p50 < 0.01, 'the negative span counted as 0');
  t.true(after.reportDelay.p50 < 0.01);
});

test('DispatchJitter: the guard is told the p99 at the first report and every 16th after, not between', (t) => {
  const told: number[] = [];
  const j = new DispatchJitter((ms) => told.push(ms));
  j.record(0, 2, 2);
  t.is(told.length, 1);
  t.true(Math.abs(told[0]! - 2) < 0.05);
  for (let i = 1; i < 16; i++) j.record(0, 2, 2);
  t.is(told.length, 1, '15 more: not yet');
  j.record(0, 2, 2);
  t.is(told.length, 2, 'the 17th report');
  for (let i = 0; i < 16; i++) j.record(0, 2, 2);
  t.is(told.length, 3);
});

test("DispatchJitter.forGuard: 'auto' widens the limiter's windows by the p99; none never does; a limiter that cannot widen is E_CONFIG", (t) => {
  const widened: number[] = [];
  const limiter = new MemoryLimiter([{ limit: 10, windowMs: 1000 }], []);
  const spy: Limiter = Object.assign(Object.create(null) as Limiter, { widen: (ms: number) => widened.push(ms) });
  DispatchJitter.forGuard('auto', spy).record(0, 7, 7);
  t.is(widened.length, 1);
  t.true(Math.abs(widened[0]! - 7) < 0.1);
  const plain = { ...spy, widen: (ms: number) => widened.push(-ms) };
  DispatchJitter.forGuard(undefined, plain).record(0, 7, 7);
  t.is(widened.length, 1, 'no guard asked, no widening');
  t.notThrows(() => DispatchJitter.forGuard('auto', limiter));
  const err = t.throws(() => DispatchJitter.forGuard('auto', { ...spy, widen: undefined })) as unknown as { code: string; message: string; issues: { path: string; rule: string; message: string }[] };
  t.is(err.code, 'E_CONFIG');
  t.regex(err.message, /^invalid executor config/);
  t.deepEqual(err.issues.map((i) => [i.path, i.rule]), [['/guard', 'requires']]);
  t.regex(err.issues[0]!.message, /'auto' needs a limiter that can widen its windows/);
});

test('DispatchJitter.forGuard: a number widens the windows by that many ms once, at once, whatever is measured; a limiter that cannot widen is E_CONFIG', (t) => {
  const widened: number[] = [];
  const spy: Limiter = Object.assign(Object.create(null) as Limiter, { widen: (ms: number) => widened.push(ms) });
  const jitter = DispatchJitter.forGuard(2.5, spy);
  t.deepEqual(widened, [2.5]);
  for (let i = 0; i < 40; i++) jitter.record(0, 50, 60);
  t.deepEqual(widened, [2.5], 'the measured jitter does not move a fixed guard');
  DispatchJitter.forGuard(0, spy);
  t.deepEqual(widened, [2.5, 0]);
  const err = t.throws(() => DispatchJitter.forGuard(3, { ...spy, widen: undefined })) as unknown as { code: string; issues: { path: string; message: string }[] };
  t.is(err.code, 'E_CONFIG');
  t.regex(err.issues[0]!.message, /a guard band needs a limiter that can widen its windows/);
});

test('outcome: statusOf tells cancellations from failures; cancelled() keeps coded reasons and wraps the rest with their text', (t) => {
  const c = new CancelledError('stop');
  const d = new DeadlineExceededError('queued');
  t.is(statusOf(c), 'CANCELLED');
  t.is(statusOf(d), 'FAILED');
  t.is(statusOf(new Error('x')), 'FAILED');
  t.is(cancelled(c), c);
  t.is(cancelled(d), d);
  const fromError = cancelled(new Error('user pressed stop'));
  t.true(fromError instanceof CancelledError);
  t.is((fromError as CancelledError).reason, 'user pressed stop');
  t.true(fromError.cause instanceof Error);
  t.is((cancelled('shutting down') as CancelledError).reason, 'shutting down');
  t.is((cancelled(42) as CancelledError).reason, 'aborted by the caller');
  t.is(cancelled(undefined).cause, undefined);
});

test('outcome: scrubHistory redacts secrets from a failed call\'s message and keeps its code; a success is returned as is', (t) => {
  const base = { id: 'c1', service: 's', status: 'FAILED' } as unknown as ServiceCallData;
  const failed = { ...base, error: { code: 'E_HANDLER', message: 'upstream said: bad key sk-abcdefghijklmnopqrstuvwxyz123456' } } as ServiceCallData;
  const scrubbed = scrubHistory(failed);
  t.is(scrubbed.error!.code, 'E_HANDLER');
  t.false(scrubbed.error!.message.includes('sk-abcdefghijklmnopqrstuvwxyz123456'));
  t.regex(scrubbed.error!.message, /upstream said: bad key/);
  t.is(failed.error!.message.includes('sk-abc'), true, 'the original record is not changed');
  const ok = { ...base, status: 'COMPLETED', error: null } as unknown as ServiceCallData;
  t.is(scrubHistory(ok), ok);
});

test('outcome: flatten yields what the promised iterable yields, in order, and its rejection', async (t) => {
  async function* three(): AsyncGenerator<number> {
    yield 1;
    yield 2;
    yield 3;
  }
  const out: unknown[] = [];
  for await (const v of flatten(Promise.resolve(three()))) out.push(v);
  t.deepEqual(out, [1, 2, 3]);
  await t.throwsAsync(async () => {
    for await (const _ of flatten(Promise.reject(new Error('refused')))) void _;
  }, { message: 'refused' });
});
