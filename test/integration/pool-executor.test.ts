/**
 * The executor on worker pools: calls, errors, deadlines and aborts reach the handler inside
 * the worker, a stream's break frees its slot, and a crashed worker fails only its own call.
 */
import test from 'ava';
import { CallContext, Executor, WorkerCrashError } from '../../src/index.js';
import type { PoolKind } from '../../src/pool/types.js';
import { changed, counters, fixtureService } from '../helpers/pool-fixtures.js';

const ctx = CallContext.new('pool-executor');

for (const kind of ['piscina', 'tinypool'] as PoolKind[]) {
  test(`${kind}: executor.call() runs in a worker and keeps a handler's error code`, async (t) => {
    const ex = new Executor({ concurrency: 8, pool: { kind, threads: 2 } });
    t.teardown(() => ex.close());
    t.is(ex.poolKind, kind);
    t.deepEqual(await ex.call(fixtureService('echo'), { hi: 1 }, ctx), { hi: 1 });
    await t.throwsAsync(ex.call(fixtureService('throws-coded'), {}, ctx), { code: 'E_TRANSPORT' });
  });

  test(`${kind}: a deadline reaches the handler's signal in the worker`, async (t) => {
    const ex = new Executor({ concurrency: 8, pool: { kind, threads: 2 } });
    t.teardown(() => ex.close());
    const slow = fixtureService('slow');
    // Warm: a call whose deadline passes before its handler starts never reaches the worker.
    await ex.ready([slow]);
    const seen = counters(1);
    const started = counters(1);
    const call = ex.call(slow, { ms: 60_000, seen, started }, CallContext.withTimeout('b', 2000));
    await changed(started, 0);
    await t.throwsAsync(call, { code: 'E_DEADLINE' });
    t.is(await changed(seen, 0), 1);
    t.is(ex.running, 0);
  });

  test(`${kind}: submit() with an abort signal cancels the running call in the worker`, async (t) => {
    const ex = new Executor({ concurrency: 8, pool: { kind, threads: 2 } });
    t.teardown(() => ex.close());
    const seen = counters(1);
    const started = counters(1);
    const ac = new AbortController();
    const call = ex.submit(fixtureService('slow'), { ms: 60_000, seen, started }, ctx, { signal: ac.signal });
    await changed(started, 0);
    ac.abort();
    await t.throwsAsync(call.result(), { code: 'E_CANCELLED' });
    t.is(await changed(seen, 0), 1);
  });

  test(`${kind}: breaking out of executor.stream() frees the slot and stops the worker's producer`, async (t) => {
    const ex = new Executor({ concurrency: 1, pool: { kind, threads: 1, streamCredit: 8 } });
    t.teardown(() => ex.close());
    const produced = counters(2);
    for await (const c of ex.stream(fixtureService('stream-counted'), { n: 1_000_000, produced }, ctx)) if (c === 9) break;
    t.is(ex.running, 0);
    await changed(produced, 1);
    t.true(Atomics.load(produced, 0) <= 10 + 2 * 8);
    // The only slot is free again: the next call is admitted.
    t.is(await ex.call(fixtureService('echo'), 'next', ctx), 'next');
  });

  test(`${kind}: a crashed worker fails its call with WorkerCrashError; the executor goes on`, async (t) => {
    const ex = new Executor({ concurrency: 8, pool: { kind, threads: 2 } });
    t.teardown(() => ex.close());
    const err = await t.throwsAsync(ex.call(fixtureService('process-exit'), {}, ctx), { instanceOf: WorkerCrashError });
    t.is(err?.code, 'E_WORKER');
    const after = await Promise.all(Array.from({ length: 50 }, (_, i) => ex.call(fixtureService('echo'), i, ctx)));
    t.deepEqual(after, Array.from({ length: 50 }, (_, i) => i));
  });
}
