import test from 'ava';
import {
  CallContext,
  ServiceCall,
  CallStatus,
  IllegalTransitionError,
  QueueFullError,
  DeadlineExceededError,
  RateLimitError,
  PolicyError,
  ValidationError,
  defineService,
  ConfigError,
} from '../../src/index.js';
import { deserializeError, serializeError } from '../../src/core/errors.js';

test('CallContext.new has no deadline by default; capabilities and attrs are frozen copies', (t) => {
  const caps = ['net.out:*'];
  const ctx = CallContext.new('b1', { capabilities: caps, attrs: { user: 'u' } });
  caps.push('fs.read:x');
  t.is(ctx.deadline, undefined);
  t.is(ctx.remainingMs(), Infinity);
  t.false(ctx.expired);
  t.deepEqual(ctx.capabilities, ['net.out:*']);
  t.true(Object.isFrozen(ctx.capabilities));
  t.true(Object.isFrozen(ctx.attrs));
  t.true(Object.isFrozen(ctx));
  t.regex(ctx.callId, /^[0-9a-f-]{36}$/);
  t.not(CallContext.new('b1').callId, ctx.callId);
});

test('CallContext.withTimeout sets an absolute monotonic deadline and a signal that fires at it', async (t) => {
  const before = performance.now();
  const ctx = CallContext.withTimeout('b', 30);
  t.true(ctx.deadline! >= before + 30 && ctx.deadline! <= performance.now() + 30);
  t.true(ctx.remainingMs() <= 30);
  // The signal's timer is unref'd (it never holds a process open), so keep this one alive.
  const keepAlive = setTimeout(() => {}, 5000);
  // Made on first use: on a starved machine the deadline may have passed by then, and the signal
  // is born aborted (an 'abort' listener would never hear it).
  const signal = ctx.signal;
  const reason = signal.aborted ? signal.reason : await new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
  clearTimeout(keepAlive);
  t.true(performance.now() >= ctx.deadline! - 1);
  t.true(ctx.expired);
  t.true(reason instanceof DeadlineExceededError);
  t.is(ctx.remainingMs(), 0);
});

test('CallContext rejects bad options naming the field and rule', (t) => {
  const err = t.throws(() => CallContext.new('b', { timeoutMs: -1 } as never), { instanceOf: ValidationError });
  t.is(err?.code, 'E_VALIDATION');
  t.deepEqual(err?.issues.map((i) => [i.path, i.rule]), [['/timeoutMs', 'exclusiveMinimum']]);
  const err2 = t.throws(() => CallContext.new('b', { capabilities: 'net' } as never), { instanceOf: ValidationError });
  t.is(err2?.issues[0]?.path, '/capabilities');
});

test('CallContext survives a trip through toJSON/fromJSON with the same deadline', (t) => {
  const ctx = CallContext.withTimeout('b', 5000, { capabilities: ['a'], attrs: { k: 1 } });
  const back = CallContext.fromJSON(structuredClone(ctx.toJSON()));
  t.is(back.callId, ctx.callId);
  t.true(Math.abs(back.deadline! - ctx.deadline!) < 1);
  t.deepEqual(back.capabilities, ['a']);
  t.deepEqual(back.attrs, { k: 1 });
});

test('ServiceCall moves PENDING -> QUEUED -> EXECUTING -> COMPLETED and rejects illegal transitions', async (t) => {
  const c = new ServiceCall('svc', CallContext.new('b'), 0);
  t.is(c.status, CallStatus.PENDING);
  t.throws(() => c.markExecuting(), { instanceOf: IllegalTransitionError });
  c.markQueued();
  c.markExecuting();
  c.complete(42);
  t.is(c.status, 'COMPLETED');
  t.is(await c.result(), 42);
  t.throws(() => c.fail(new Error('x')), { instanceOf: IllegalTransitionError });
  t.throws(() => c.complete(1), { instanceOf: IllegalTransitionError });
  t.true(c.startedAt! >= c.queuedAt! && c.endedAt! >= c.startedAt!);
  t.is(c.toJSON().status, 'COMPLETED');
});

test('an unread failed ServiceCall does not raise an unhandled rejection', async (t) => {
  const c = new ServiceCall('svc', CallContext.new('b'), 0);
  c.markQueued();
  c.fail(new Error('nobody listens'));
  await new Promise((r) => setImmediate(r));
  t.is(c.status, 'FAILED');
  t.is(c.toJSON().error?.message, 'nobody listens');
});

// Serial: it listens for process-wide unhandled rejections.
test.serial('a ServiceCall awaited before it fails rejects with that very error, once, and leaves no unhandled rejection behind', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    for (const status of ['FAILED', 'CANCELLED'] as const) {
      const c = new ServiceCall('svc', CallContext.new('b'), 0);
      c.markQueued();
      const p = c.result();
      t.is(c.result(), p);
      const err = new Error(status);
      c.fail(err, status);
      t.is(await t.throwsAsync(p), err);
      t.is(c.result(), p);
      t.is(c.error, err);
    }
    await new Promise((r) => setImmediate(r));
    t.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('errors keep their code and class across a thread boundary', (t) => {
  const samples = [
    new QueueFullError(10),
    new RateLimitError('slow down', 1500),
    new PolicyError(['a', 'b'], ['a'], ['b']),
    new ValidationError('request', [{ path: '/x', rule: 'type', message: 'must be string' }]),
  ];
  for (const e of samples) {
    const back = deserializeError(structuredClone(serializeError(e)));
    t.true(back instanceof e.constructor, e.name);
    t.is((back as { code?: string }).code, e.code);
    t.is(back.message, e.message);
    t.is(back.name, e.name);
  }
  const rl = deserializeError(structuredClone(serializeError(new RateLimitError('x', 250)))) as RateLimitError;
  t.is(rl.retryAfterMs, 250);
  t.true(rl.retryable);
  const pe = deserializeError(structuredClone(serializeError(new PolicyError(['a'], [], ['a'])))) as PolicyError;
  t.deepEqual(pe.missing, ['a']);
  const plain = Object.assign(new TypeError('boom'), { code: 'E_MINE' });
  const back = deserializeError(structuredClone(serializeError(plain)));
  t.is(back.name, 'TypeError');
  t.is((back as { code?: string }).code, 'E_MINE');
});

test('defineService validates its definition and lists every problem', (t) => {
  const err = t.throws(() => defineService({ name: '', requires: [''], estimateTokens: 5 } as never), { instanceOf: ConfigError });
  const paths = err!.issues.map((i) => i.path).sort();
  t.deepEqual(paths, ['/estimateTokens', '/module', '/name', '/requires']);
  t.throws(() => defineService({ name: 'x', module: './relative.js' }), { code: 'E_CONFIG' });
  const s = defineService({ name: 'x', module: new URL('file:///tmp/h.js') });
  t.is(s.module, 'file:///tmp/h.js');
});
