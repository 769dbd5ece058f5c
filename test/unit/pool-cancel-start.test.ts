import test from 'ava';
import { ChannelPool } from '../../src/pool/channel-pool.js';
import { createPool } from '../../src/pool/create-pool.js';
import { handlerFinished, handlerRunning, handlerStarted, Progress } from '../../src/pool/protocol.js';
import type { PoolKind } from '../../src/pool/types.js';
import { abortedWhileRunning, changed, counters, runOn, signalAt, task } from '../helpers/pool-fixtures.js';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Holds this thread 100 ms, well past a 10 ms grace period, in a check callback: the loop's next
 * turn runs its timers (the grace period's end) before it reads what the worker sent meanwhile.
 */
const holdPastGrace = () =>
  new Promise<void>((resolve) =>
    setImmediate(() => {
      const until = Date.now() + 100;
      while (Date.now() < until);
      resolve();
    }),
  );

/** Two threads where worker starts are the subject; one where a single worker shows it. */
function open(kind: PoolKind, abortGraceMs: number, threads = 1): ChannelPool {
  const pool = createPool({ kind, threads, abortGraceMs });
  if (!(pool instanceof ChannelPool)) throw new Error('not a worker pool');
  return pool;
}

for (const kind of ['piscina', 'tinypool'] as PoolKind[]) {
  test(`${kind}: calls cancelled while the workers start cost no worker and never break the pool`, async (t) => {
    // A 10 ms grace is far shorter than any worker start: before the fix each burst cost workers,
    // and three lost starts marked the pool broken.
    const pool = open(kind, 10, 2);
    t.teardown(() => pool.close());
    for (let round = 0; round < 3; round++) {
      const calls = Array.from({ length: 30 }, (_, i) => {
        const ac = new AbortController();
        const p = runOn(pool, task('echo', i), ac.signal);
        ac.abort(new Error('tiny deadline'));
        return p;
      });
      const settled = await Promise.allSettled(calls);
      t.true(settled.every((s) => s.status === 'rejected'));
      await sleep(100);
    }
    t.is(await runOn(pool, task('echo', 'after')), 'after');
    t.is(pool.workers.lost, 0);
    t.true(pool.workers.started <= 2);
  });

  test(`${kind}: a call cancelled while its handler module loads costs no worker`, async (t) => {
    const pool = open(kind, 10);
    t.teardown(() => pool.close());
    t.is(await runOn(pool, task('echo', 1)), 1);
    const ac = new AbortController();
    const p = runOn(pool, task('slow-import', 'x'), ac.signal);
    await sleep(30);
    ac.abort(new Error('gave up'));
    await t.throwsAsync(p, { message: 'gave up' });
    // Past the module's 400 ms load and 40 times the grace period.
    await sleep(600);
    t.is(await runOn(pool, task('slow-import', 'y')), 'y');
    t.is(pool.workers.lost, 0);
  });

  test(`${kind}: a handler that declares no signal parameter still gets a live one`, async (t) => {
    const pool = open(kind, 60_000);
    t.teardown(() => pool.close());
    const started = counters(1);
    const seen = counters(1);
    const ac = new AbortController();
    const p = runOn(pool, task('wrapped-slow', { ms: 60_000, started, seen }), ac.signal);
    await changed(started, 0);
    ac.abort(new Error('stop'));
    await t.throwsAsync(p, { message: 'stop' });
    t.is(await changed(seen, 0), 1);
    t.is(pool.workers.lost, 0);
  });

  test(`${kind}: a cancelled handler that finished is not taken for one still running while another runs`, async (t) => {
    const pool = open(kind, 10);
    t.teardown(() => pool.close());
    t.is(await runOn(pool, task('echo', 0)), 0);
    const started = counters(1);
    const gate = counters(1);
    const busy = runOn(pool, task('slow', { gate, started }));
    await changed(started, 0);
    const ac = new AbortController();
    const p = runOn(pool, task('echo', 1), ac.signal);
    ac.abort(new Error('stop'));
    await t.throwsAsync(p, { message: 'stop' });
    // The call and its cancel are posted; the worker runs the one and answers while this thread
    // is held, and the grace period ends before the answer is read, beside a handler that runs.
    await holdPastGrace();
    await sleep(100);
    signalAt(gate, 0);
    t.is(await busy, 'opened');
    t.is(pool.workers.lost, 0);
  });

  test(`${kind}: a handler that ignores its abort still costs its worker (the control)`, async (t) => {
    const pool = open(kind, 10);
    t.teardown(() => pool.close());
    t.is(await runOn(pool, task('echo', 1)), 1);
    const { call } = await abortedWhileRunning(pool, 'pending', new Error('stop'));
    await t.throwsAsync(call);
    while (pool.workers.lost === 0) await sleep(10);
    t.is(pool.workers.lost, 1);
    t.is(await runOn(pool, task('echo', 2)), 2);
  });

  test(`${kind}: a call its worker answered before being terminated settles with its answer`, async (t) => {
    const pool = open(kind, 10);
    t.teardown(() => pool.close());
    t.is(await runOn(pool, task('echo', 0)), 0);
    const { call: doomed } = await abortedWhileRunning(pool, 'pending', new Error('stop'));
    await t.throwsAsync(doomed, { message: 'stop' });
    const answered = runOn(pool, task('echo', 1));
    // The worker answers while this thread is held: the grace period ends, and the worker is
    // terminated, before the answer is read.
    await holdPastGrace();
    t.is(await answered, 1);
    while (pool.workers.lost === 0) await sleep(10);
    t.is(await runOn(pool, task('echo', 2)), 2);
  });

  test(`${kind}: a call answered just before its worker crashed settles with its answer`, async (t) => {
    const pool = open(kind, 1000);
    t.teardown(() => pool.close());
    for (let i = 0; i < 5; i++) {
      t.is(await runOn(pool, task('answer-then-crash', i)), i);
      while (pool.workers.lost <= i) await sleep(5);
    }
  });
}

test('the running record: exact per call, and cautious once more calls run than it has places', (t) => {
  const progress = new Float64Array(Progress.SIZE);
  const places = Progress.RUNNING_MASK + 1;
  handlerStarted(progress, 1);
  handlerStarted(progress, 2);
  handlerFinished(progress, 1);
  t.false(handlerRunning(progress, 1), 'finished beside one still running');
  t.true(handlerRunning(progress, 2));
  t.false(handlerRunning(progress, 3), 'not started');
  // Call 2 + places finds its place held by call 2, still running.
  handlerStarted(progress, 2 + places);
  t.true(handlerRunning(progress, 2 + places), 'unlisted: any call from it on started counts');
  t.true(handlerRunning(progress, 1), 'unlisted: cautious for earlier ones too');
  t.false(handlerRunning(progress, 3 + places), 'not started');
  handlerFinished(progress, 2 + places);
  t.false(handlerRunning(progress, 1), 'exact again once every running call is listed');
  t.true(handlerRunning(progress, 2));
  handlerFinished(progress, 2);
  t.false(handlerRunning(progress, 2));
  t.deepEqual([...progress.subarray(Progress.UNLISTED)].filter((v) => v !== 0), []);
});
