import test from 'ava';
import { CallContext, Executor, defineService } from '../../src/index.js';
import { fakeClockEach } from '../helpers/fake-clock.js';
import { deferred } from '../helpers/scripted-limiter.js';

// stats() counters and run times against calls whose every outcome and duration the test sets.

const fake = fakeClockEach(test);

fake.serial('each outcome counts under its own status once; only an expired deadline counts as deadlineExceeded', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close({ drain: false }));
  const echo = defineService({ name: 'echo', handler: { call: (r: unknown) => r } });
  const boom = defineService({ name: 'boom', handler: { call: () => Promise.reject(Object.assign(new Error('no'), { code: 'E_HANDLER' })) } });
  await ex.call(echo, 1);
  await ex.call(echo, 2);
  await t.throwsAsync(ex.call(boom, 1));
  const never = defineService({ name: 'never', handler: { call: () => new Promise(() => undefined) } });
  const expired = ex.call(never, 1, CallContext.withTimeout('d', 50));
  const ac = new AbortController();
  const aborted = ex.call(never, 1, CallContext.new('c'), { signal: ac.signal });
  ac.abort();
  await t.throwsAsync(aborted, { code: 'E_CANCELLED' });
  await fake.advance(60);
  await t.throwsAsync(expired, { code: 'E_DEADLINE' });
  const s = ex.stats();
  t.like(s, { accepted: 5, completed: 2, failed: 2, cancelled: 1, deadlineExceeded: 1, queued: 0, running: 0 });
});

fake.serial('runTime counts the calls that ran, each from admission to settle; a call cancelled in the queue never ran', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' }, concurrency: 1 });
  t.teardown(() => ex.close({ drain: false }));
  const gates = [deferred<string>(), deferred<string>()];
  let n = 0;
  const held = defineService({ name: 'held', handler: { call: () => gates[n++]!.promise } });
  const first = ex.call(held, 1);
  const ac = new AbortController();
  const queued = ex.call(held, 2, CallContext.new('q'), { signal: ac.signal });
  await fake.advance(30);
  ac.abort();
  await t.throwsAsync(queued, { code: 'E_CANCELLED' });
  await fake.advance(10);
  gates[0]!.resolve('done');
  t.is(await first, 'done');
  const s = ex.stats();
  t.is(s.runTime.count, 1, 'the queued call that was cancelled did not run');
  t.true(Math.abs(s.runTime.max - 40) < 0.5, `ran ${s.runTime.max} ms`);
  t.is(s.queueWait.count, 1);
});
