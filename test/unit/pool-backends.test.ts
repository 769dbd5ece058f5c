import test from 'ava';
import { CancelledError, TransportError, WorkerCrashError } from '../../src/core/errors.js';
import { defineService } from '../../src/core/service.js';
import { Executor } from '../../src/executor/executor.js';
import { createPool } from '../../src/pool/create-pool.js';
import type { Pool, PoolKind } from '../../src/pool/types.js';
import { changed, counters, handlerCtx, signalAt, task } from '../helpers/pool-fixtures.js';

const kinds: PoolKind[] = ['piscina', 'tinypool', 'inline'];
const workerKinds: PoolKind[] = ['piscina', 'tinypool'];
const never = new AbortController().signal;

const shared = new Map<PoolKind, Pool>();
const opened: Pool[] = [];
function open(kind: PoolKind, extra: { threads?: number; abortGraceMs?: number; maxHeapMb?: number } = {}): Pool {
  const pool = createPool({ kind, threads: 2, ...extra });
  opened.push(pool);
  return pool;
}
test.before(() => {
  for (const kind of kinds) shared.set(kind, open(kind));
});
test.after.always(async () => {
  await Promise.all(opened.map((p) => p.close()));
});

for (const kind of kinds) {
  test(`${kind}: .call() returns the handler's value`, async (t) => {
    const pool = shared.get(kind)!;
    t.deepEqual(await pool.call(task('echo', { a: [1, { b: 'c' }], n: null }), never), { a: [1, { b: 'c' }], n: null });
  });

  test(`${kind}: many concurrent calls each get their own result`, async (t) => {
    const pool = shared.get(kind)!;
    const got = await Promise.all(Array.from({ length: 2000 }, (_, i) => pool.call(task('echo', i), new AbortController().signal)));
    t.deepEqual(got, Array.from({ length: 2000 }, (_, i) => i));
  });

  test(`${kind}: a binary result arrives whole`, async (t) => {
    const pool = shared.get(kind)!;
    const bytes = new Uint8Array(256 * 1024).map((_, i) => i % 251);
    const got = (await pool.call(task('echo', bytes), never)) as Uint8Array;
    t.is(got.byteLength, bytes.byteLength);
    t.is(got[1000], 1000 % 251);
  });

  test(`${kind}: a handler's error is rebuilt into its class and keeps its code`, async (t) => {
    const pool = shared.get(kind)!;
    const err = await t.throwsAsync(pool.call(task('throws-coded', {}), never));
    t.true(err instanceof TransportError);
    t.is((err as TransportError).code, 'E_TRANSPORT');
    t.is((err as TransportError).status, 503);
    t.true((err as TransportError).retryable);
    const plain = await t.throwsAsync(pool.call(task('throws-coded', { plain: true }), never));
    t.is(plain?.name, 'RangeError');
    t.is(plain?.message, 'plain failure');
    t.is((plain as Error & { detail?: string }).detail, 'kept');
  });

  test(`${kind}: a module that fails to load rejects the call, and the pool goes on`, async (t) => {
    const pool = shared.get(kind)!;
    await t.throwsAsync(pool.call(task('bad-import', {}), never), { code: 'E_HANDLER_LOAD', message: /this module cannot load/ });
    t.is(await pool.call(task('echo', 'after'), never), 'after');
  });

  test(`${kind}: an already-aborted signal rejects with its reason`, async (t) => {
    const pool = shared.get(kind)!;
    const ac = new AbortController();
    ac.abort(new CancelledError('before'));
    await t.throwsAsync(pool.call(task('echo', 1), ac.signal), { code: 'E_CANCELLED' });
  });

  test(`${kind}: an abort reaches the handler's signal and the call rejects with its reason`, async (t) => {
    const pool = shared.get(kind)!;
    const seen = counters(1);
    const started = counters(1);
    const ac = new AbortController();
    const p = pool.call(task('slow', { ms: 60_000, seen, started }), ac.signal);
    await changed(started, 0);
    ac.abort(new CancelledError('stop'));
    await t.throwsAsync(p, { code: 'E_CANCELLED' });
    t.is(await changed(seen, 0), 1);
  });

  test(`${kind}: a handler that ignores its abort settles the call once, at once`, async (t) => {
    const pool = open(kind, { threads: 1, abortGraceMs: 10_000 });
    const started = counters(1);
    const ac = new AbortController();
    let settled = 0;
    const p = pool.call(task('ignores-abort', { mode: 'pending', started }), ac.signal).finally(() => settled++);
    await changed(started, 0);
    ac.abort(new CancelledError('stop'));
    await t.throwsAsync(p, { code: 'E_CANCELLED' });
    t.is(await pool.call(task('echo', 'next'), never), 'next');
    t.is(settled, 1);
  });
}

test('a service with an in-process handler runs only on the inline pool', async (t) => {
  const service = defineService<unknown, unknown>({ name: 'local', handler: { call: () => 'here' } });
  t.is(await shared.get('inline')!.call({ service, request: {}, ctx: handlerCtx }, never), 'here');
  await t.throwsAsync(shared.get('piscina')!.call({ service, request: {}, ctx: handlerCtx }, never), { code: 'E_CONFIG' });
});

for (const kind of workerKinds) {
  test(`${kind}: a request structured clone cannot copy fails alone with E_VALIDATION; its batch-mates run`, async (t) => {
    const pool = shared.get(kind)!;
    // Posted in one turn: they share a batch (one postMessage) with the bad ones.
    const calls = [
      pool.call(task('echo', 1), never),
      pool.call(task('echo', { f: () => 1 }), never),
      pool.call(task('echo', 3), never),
    ];
    const stream = pool.stream(task('stream-counted', { n: 2, f: () => 2 }), never);
    const good = pool.stream(task('stream-counted', { n: 2 }), never);
    t.is(await calls[0], 1);
    const err = await t.throwsAsync(calls[1]!, { code: 'E_VALIDATION' });
    t.regex(err?.message ?? '', /\/request: must be structured-clone-safe/);
    t.is(await calls[2], 3);
    await t.throwsAsync(async () => {
      for await (const _ of stream) t.fail('no chunk expected');
    }, { code: 'E_VALIDATION' });
    const got: unknown[] = [];
    for await (const c of good) got.push(c);
    t.is(got.length, 2);
  });

  test(`${kind}: a busy handler that ignores its abort is terminated after abortGraceMs`, async (t) => {
    const pool = open(kind, { threads: 1, abortGraceMs: 200 });
    const started = counters(1);
    const ac = new AbortController();
    const p = pool.call(task('ignores-abort', { mode: 'busy', started }), ac.signal);
    await changed(started, 0);
    ac.abort(new CancelledError('stop'));
    await t.throwsAsync(p, { code: 'E_CANCELLED' });
    // The spinning thread would hold the only worker for 30 s; a replacement answers now.
    const t0 = performance.now();
    t.is(await pool.call(task('echo', 'replaced'), never), 'replaced');
    t.true(performance.now() - t0 < 20_000);
  });

  test(`${kind}: terminating an ignoring handler fails the other calls on its worker with WorkerCrashError`, async (t) => {
    const pool = open(kind, { threads: 1, abortGraceMs: 100 });
    const started = counters(1);
    const bystander = pool.call(task('slow', { ms: 60_000 }), never);
    const ac = new AbortController();
    const p = pool.call(task('ignores-abort', { mode: 'pending', started }), ac.signal);
    await changed(started, 0);
    ac.abort(new CancelledError('stop'));
    await t.throwsAsync(p, { code: 'E_CANCELLED' });
    const err = await t.throwsAsync(bystander, { instanceOf: WorkerCrashError });
    t.is(err?.code, 'E_WORKER');
    t.regex(err?.message ?? '', /ignored its abort signal/);
    t.is(await pool.call(task('echo', 'on'), never), 'on');
  });

  for (const [fixture, what] of [
    ['crash-top-level', 'throws at top level'],
    ['process-exit', 'calls process.exit'],
    ['oom', 'runs out of memory'],
  ] as const) {
    test(`${kind}: a worker that ${what} fails only its own calls with WorkerCrashError, and is replaced`, async (t) => {
      const pool = open(kind, { threads: 2, maxHeapMb: 32 });
      const gate = counters(1);
      // Least-loaded dispatch: the gated call takes one worker, the crash goes to the other.
      const survivor = pool.call(task('slow', { gate }), never);
      const err = await t.throwsAsync(pool.call(task(fixture, {}), never), { instanceOf: WorkerCrashError });
      t.is(err?.code, 'E_WORKER');
      signalAt(gate, 0);
      t.is(await survivor, 'opened');
      const after = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.call(task('echo', i), never)));
      t.deepEqual(after, Array.from({ length: 20 }, (_, i) => i));
    });
  }
}

for (const kind of workerKinds) {
  test(`${kind}: an idle worker's poll for the next call never starves its own event loop`, async (t) => {
    const pool = open(kind, { threads: 1 });
    const first = (await pool.call(task('ticker', null), never)) as number;
    const start = performance.now();
    let last = first;
    // 32 calls kept in flight: the next batch is always waiting when the worker polls.
    const lane = async () => {
      while (performance.now() - start < 1500) last = Math.max(last, (await pool.call(task('ticker', null), never)) as number);
    };
    await Promise.all(Array.from({ length: 32 }, lane));
    const elapsed = performance.now() - start;
    // A 1 ms interval in the worker kept running; generous for a busy machine.
    t.log(`${last - first} ticks in ${elapsed.toFixed(0)} ms`);
    t.true(last - first >= elapsed / 20, `${last - first} ticks in ${elapsed.toFixed(0)} ms`);
  });
}

test('idleSpinUs must be a whole number of µs from 0 to 10000', (t) => {
  const err = t.throws(() => new Executor({ pool: { kind: 'piscina', idleSpinUs: -1 } }), { code: 'E_CONFIG' });
  t.regex(err?.message ?? '', /\/pool\/idleSpinUs/);
});
