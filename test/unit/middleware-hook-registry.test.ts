import test from 'ava';
import { HookError } from '../../src/index.js';
import { HookRegistry, HookType } from '../../src/middleware/hook-registry.js';
import { installClock, settle } from '../helpers/fake-clock.js';

const event = { type: HookType.PRE_CALL, service: 's', callId: 'c' } as const;

test.serial('HookRegistry: each outcome reports its status, its exact time and what failed, in registration order (fake clock)', async (t) => {
  const clock = installClock();
  try {
    const reported: [string, string][] = [];
    const reg = new HookRegistry({ defaultTimeoutMs: 100, onError: (e, type) => reported.push([type, e.message]) });
    reg.register(HookType.PRE_CALL, () => 'sync');
    reg.register(HookType.PRE_CALL, () => new Promise((r) => setTimeout(() => r('later'), 30)));
    reg.register(HookType.PRE_CALL, () => ({ then: (ok: (v: unknown) => void) => setTimeout(() => ok('thenable'), 10) }));
    reg.register(HookType.PRE_CALL, () => { throw new Error('boom'); });
    reg.register(HookType.PRE_CALL, () => Promise.reject('plain text'));
    reg.register(HookType.PRE_CALL, () => Promise.reject(42));
    reg.register(HookType.PRE_CALL, () => new Promise(() => {}));
    t.is(reg.count(HookType.PRE_CALL), 7);
    t.is(reg.count(HookType.POST_CALL), 0);
    let outcomes: unknown;
    void reg.emit(HookType.PRE_CALL, event).then((o) => (outcomes = o));
    for (const step of [10, 20, 70]) {
      await settle();
      clock.tick(step);
    }
    await settle();
    t.like(outcomes, [
      { status: 'ok', ms: 0, value: 'sync' },
      { status: 'ok', ms: 30, value: 'later' },
      { status: 'ok', ms: 10, value: 'thenable' },
      { status: 'error', ms: 0 },
      { status: 'error', ms: 0 },
      { status: 'error', ms: 0 },
      { status: 'timeout', ms: 100 },
    ]);
    t.deepEqual(reported, [
      ['PRE_CALL', 'a PRE_CALL hook failed: boom'],
      ['PRE_CALL', 'a PRE_CALL hook failed: plain text'],
      ['PRE_CALL', 'a PRE_CALL hook failed: non-error value thrown'],
      ['PRE_CALL', 'a PRE_CALL hook did not finish within 100 ms; it was abandoned'],
    ]);
    t.like((outcomes as { error: HookError }[])[6]!.error, { code: 'E_HOOK', context: { type: 'PRE_CALL', timeoutMs: 100 } });
  } finally {
    clock.uninstall();
  }
});

test('HookRegistry: register, unregister (twice is harmless), clear; emit of an unknown type rejects; a throwing onError is ignored', async (t) => {
  const reg = new HookRegistry({ onError: () => { throw new Error('reporter'); } });
  t.deepEqual(await reg.emit(HookType.POST_CALL, event), []);
  const off = reg.register(HookType.POST_CALL, () => 1);
  const other = reg.register(HookType.POST_CALL, () => 2);
  t.true(reg.has(HookType.POST_CALL));
  off();
  off();
  t.is(reg.count(HookType.POST_CALL), 1);
  t.deepEqual((await reg.emit(HookType.POST_CALL, event)).map((o) => o.value), [2]);
  other();
  t.false(reg.has(HookType.POST_CALL));
  reg.register(HookType.POST_CALL, () => { throw new Error('x'); });
  t.like(await reg.emit(HookType.POST_CALL, event), [{ status: 'error' }]);
  reg.clear();
  t.false(reg.has(HookType.POST_CALL));
  await t.throwsAsync(reg.emit('NOPE' as never, event), { instanceOf: HookError, message: /unknown hook type "NOPE"; expected one of PRE_CALL, POST_CALL/ });
  t.throws(() => reg.register(HookType.POST_CALL, null as never), { instanceOf: HookError, message: 'a hook must be a function, got null' });
  t.throws(() => reg.register(HookType.POST_CALL, 5 as never), { message: 'a hook must be a function, got number' });
});

test('HookRegistry.transform: hooks in order, each may replace the chunk; undefined, a failure or a timeout keeps it', async (t) => {
  const reg = new HookRegistry({ defaultTimeoutMs: 20 });
  t.is(await reg.transform('a', event), 'a');
  reg.register(HookType.STREAM_CHUNK, (e) => `${String(e.chunk)}1`);
  reg.register(HookType.STREAM_CHUNK, () => undefined);
  reg.register(HookType.STREAM_CHUNK, () => { throw new Error('no'); });
  reg.register(HookType.STREAM_CHUNK, () => new Promise(() => {}));
  reg.register(HookType.STREAM_CHUNK, async (e) => `${String(e.chunk)}2`);
  t.is(await reg.transform('a', event), 'a12');
});

test('HookRegistry: each HookError names its hook type in its context', async (t) => {
  const reg = new HookRegistry();
  const notFn = t.throws(() => reg.register(HookType.PRE_CALL, 5 as never), { instanceOf: HookError });
  t.deepEqual(notFn!.context, { type: 'PRE_CALL' });
  const unknown = t.throws(() => reg.register('NOPE' as never, () => 1), { instanceOf: HookError });
  t.deepEqual(unknown!.context, { type: 'NOPE' });
  reg.register(HookType.POST_CALL, () => {
    throw new Error('x');
  });
  const [out] = await reg.emit(HookType.POST_CALL, event);
  t.deepEqual((out!.error as HookError).context, { type: 'POST_CALL' });
});

test('HookRegistry: removing a hook after clear() is harmless; hooks removed or added while a hook runs do not change that run', async (t) => {
  const reg = new HookRegistry();
  const off = reg.register(HookType.PRE_CALL, () => 1);
  reg.clear();
  t.notThrows(() => off());
  t.notThrows(() => off());
  const ran: string[] = [];
  let offB: () => void = () => {};
  reg.register(HookType.PRE_CALL, () => {
    ran.push('a');
    offB();
  });
  offB = reg.register(HookType.PRE_CALL, () => void ran.push('b'));
  await reg.emit(HookType.PRE_CALL, event);
  t.deepEqual(ran, ['a', 'b'], 'b was removed during the run, after the run began');
  await reg.emit(HookType.PRE_CALL, event);
  t.deepEqual(ran, ['a', 'b', 'a']);
  const chunks = new HookRegistry();
  let offSecond: () => void = () => {};
  chunks.register(HookType.STREAM_CHUNK, (e) => {
    offSecond();
    return `${String(e.chunk)}1`;
  });
  offSecond = chunks.register(HookType.STREAM_CHUNK, (e) => `${String(e.chunk)}2`);
  t.is(await chunks.transform('a', event), 'a12');
  t.is(await chunks.transform('a', event), 'a1');
});

test('HookRegistry: a hook returning null, a plain object or a function is ok with that value (only a thenable is awaited)', async (t) => {
  const reg = new HookRegistry();
  const fn = Object.assign(() => 0, { then: 'not a method' });
  const obj = { then: 5, a: 1 };
  reg.register(HookType.PRE_CALL, () => null);
  reg.register(HookType.PRE_CALL, () => obj);
  reg.register(HookType.PRE_CALL, () => fn);
  reg.register(HookType.PRE_CALL, () => ({ a: 2 }));
  const outs = await reg.emit(HookType.PRE_CALL, event);
  t.deepEqual(outs.map((o) => o.status), ['ok', 'ok', 'ok', 'ok']);
  t.is(outs[0]!.value, null);
  t.is(outs[1]!.value, obj);
  t.is(outs[2]!.value, fn);
  t.deepEqual(outs[3]!.value, { a: 2 });
});
