import { AbortHandle } from '../../src/core/abort-handle.js';
import test from 'ava';
import { CancelledError, HandlerLoadError, TransportError, WorkerCrashError } from '../../src/core/errors.js';
import { defineService } from '../../src/core/service.js';
import { Executor } from '../../src/executor/executor.js';
import { createPool } from '../../src/pool/create-pool.js';
import type { Pool, PoolKind } from '../../src/pool/types.js';
import { abortedWhileRunning, changed, counters, handlerCtx, runOn, signalAt, task } from '../helpers/pool-fixtures.js';

const kinds: PoolKind[] = ['piscina', 'tinypool', 'inline'];
const workerKinds: PoolKind[] = ['piscina', 'tinypool'];

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
    t.deepEqual(await runOn(pool, task('echo', { a: [1, { b: 'c' }], n: null })), { a: [1, { b: 'c' }], n: null });
  });

  test(`${kind}: many concurrent calls each get their own result`, async (t) => {
    const pool = shared.get(kind)!;
    const got = await Promise.all(Array.from({ length: 2000 }, (_, i) => runOn(pool, task('echo', i), new AbortController().signal)));
    t.deepEqual(got, Array.from({ length: 2000 }, (_, i) => i));
  });

  test(`${kind}: a binary result arrives whole`, async (t) => {
    const pool = shared.get(kind)!;
    const bytes = new Uint8Array(256 * 1024).map((_, i) => i % 251);
    const got = (await runOn(pool, task('echo', bytes))) as Uint8Array;
    t.is(got.byteLength, bytes.byteLength);
    t.is(got[1000], 1000 % 251);
  });

  test(`${kind}: a handler's error is rebuilt into its class and keeps its code`, async (t) => {
    const pool = shared.get(kind)!;
    const err = await t.throwsAsync(runOn(pool, task('throws-coded', {})));
    t.true(err instanceof TransportError);
    t.is((err as TransportError).code, 'E_TRANSPORT');
    t.is((err as TransportError).status, 503);
    t.true((err as TransportError).retryable);
    const plain = await t.throwsAsync(runOn(pool, task('throws-coded', { plain: true })));
    t.is(plain?.name, 'RangeError');
    t.is(plain?.message, 'plain failure');
    t.is((plain as Error & { detail?: string }).detail, 'kept');
  });

  test(`${kind}: a module that fails to load rejects the call, and the pool goes on`, async (t) => {
    const pool = shared.get(kind)!;
    const thrown = await t.throwsAsync(runOn(pool, task('bad-import', {})), { code: 'E_HANDLER_LOAD', message: /this module cannot load/ });
    t.is((thrown?.cause as Error | undefined)?.message, 'this module cannot load');
    t.is(await runOn(pool, task('echo', 'after')), 'after');
  });

  test(`${kind}: a handler module that does not exist fails with E_HANDLER_LOAD, the import error as cause`, async (t) => {
    const pool = shared.get(kind)!;
    const err = await t.throwsAsync(runOn(pool, task('no-such-handler', {})), { code: 'E_HANDLER_LOAD', instanceOf: HandlerLoadError });
    t.is((err?.cause as { code?: unknown } | undefined)?.code, 'ERR_MODULE_NOT_FOUND');
    await t.throwsAsync(async () => {
      for await (const _ of pool.stream(task('no-such-handler', {}), new AbortHandle())) t.fail('no chunk expected');
    }, { code: 'E_HANDLER_LOAD' });
  });

  test(`${kind}: an already-aborted signal rejects with its reason`, async (t) => {
    const pool = shared.get(kind)!;
    const ac = new AbortController();
    ac.abort(new CancelledError('before'));
    await t.throwsAsync(runOn(pool, task('echo', 1), ac.signal), { code: 'E_CANCELLED' });
  });

  test(`${kind}: an abort reaches the handler's signal and the call rejects with its reason`, async (t) => {
    const pool = shared.get(kind)!;
    const seen = counters(1);
    const started = counters(1);
    const ac = new AbortController();
    const p = runOn(pool, task('slow', { ms: 60_000, seen, started }), ac.signal);
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
    const p = runOn(pool, task('ignores-abort', { mode: 'pending', started }), ac.signal).finally(() => settled++);
    await changed(started, 0);
    ac.abort(new CancelledError('stop'));
    await t.throwsAsync(p, { code: 'E_CANCELLED' });
    t.is(await runOn(pool, task('echo', 'next')), 'next');
    t.is(settled, 1);
  });
}

test('a service with an in-process handler runs only on the inline pool', async (t) => {
  const service = defineService<unknown, unknown>({ name: 'local', handler: { call: () => 'here' } });
  t.is(await runOn(shared.get('inline')!, { service, request: {}, ctx: handlerCtx }), 'here');
  await t.throwsAsync(runOn(shared.get('piscina')!, { service, request: {}, ctx: handlerCtx }), { code: 'E_CONFIG' });
});

class Account {
  readonly #balance: number;
  constructor(balance: number) {
    this.#balance = balance;
  }
  get balance(): number {
    return this.#balance;
  }
}

for (const kind of workerKinds) {
  test(`${kind}: a class instance in a request fails with E_VALIDATION naming where; plain data and cloneable built-ins pass`, async (t) => {
    const pool = shared.get(kind)!;
    const err = await t.throwsAsync(runOn(pool, task('echo', { items: [{ ok: 1 }, new Account(5)] })), { code: 'E_VALIDATION' });
    t.regex(err?.message ?? '', /\/request\/items\/1: must be plain data.*Account instance/);
    await t.throwsAsync(async () => {
      for await (const _ of pool.stream(task('stream-counted', { n: 1, who: new Account(1) }), new AbortHandle())) t.fail('no chunk expected');
    }, { code: 'E_VALIDATION' });
    const fine = { d: new Date(0), m: new Map([['k', { v: [1] }]]), s: new Set([1]), b: new Uint8Array([1, 2]), n: Object.create(null) as object, r: /x/g };
    t.deepEqual(await runOn(pool, task('echo', fine)), fine);
  });

  test(`${kind}: a request structured clone cannot copy fails alone with E_VALIDATION; its batch-mates run`, async (t) => {
    const pool = shared.get(kind)!;
    // Posted in one turn: they share a batch (one postMessage) with the bad ones.
    const calls = [
      runOn(pool, task('echo', 1)),
      runOn(pool, task('echo', { f: () => 1 })),
      runOn(pool, task('echo', 3)),
    ];
    const stream = pool.stream(task('stream-counted', { n: 2, f: () => 2 }), new AbortHandle());
    const good = pool.stream(task('stream-counted', { n: 2 }), new AbortHandle());
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
    const { call } = await abortedWhileRunning(pool, 'busy', new CancelledError('stop'));
    await t.throwsAsync(call, { code: 'E_CANCELLED' });
    // The spinning thread would hold the only worker for 30 s; a replacement answers now.
    const t0 = performance.now();
    t.is(await runOn(pool, task('echo', 'replaced')), 'replaced');
    t.true(performance.now() - t0 < 20_000);
  });

  test(`${kind}: terminating an ignoring handler fails the other calls on its worker with WorkerCrashError`, async (t) => {
    const pool = open(kind, { threads: 1, abortGraceMs: 100 });
    const bystander = runOn(pool, task('slow', { ms: 60_000 }));
    const { call } = await abortedWhileRunning(pool, 'pending', new CancelledError('stop'));
    await t.throwsAsync(call, { code: 'E_CANCELLED' });
    const err = await t.throwsAsync(bystander, { instanceOf: WorkerCrashError });
    t.is(err?.code, 'E_WORKER');
    t.regex(err?.message ?? '', /ignored its abort signal/);
    t.is(await runOn(pool, task('echo', 'on')), 'on');
  });

  for (const [fixture, what] of [
    ['crash-top-level', 'throws at top level'],
    ['process-exit', 'calls process.exit'],
    ['oom', 'runs out of memory'],
  ] as const) {
    test(`${kind}: a worker that ${what} fails only its own calls with WorkerCrashError, and is replaced`, async (t) => {
      const pool = open(kind, { threads: 2, maxHeapMb: 16 });
      const gate = counters(1);
      // Least-loaded dispatch: the gated call takes one worker, the crash goes to the other.
      const survivor = runOn(pool, task('slow', { gate }));
      const err = await t.throwsAsync(runOn(pool, task(fixture, {})), { instanceOf: WorkerCrashError });
      t.is(err?.code, 'E_WORKER');
      signalAt(gate, 0);
      t.is(await survivor, 'opened');
      const after = await Promise.all(Array.from({ length: 20 }, (_, i) => runOn(pool, task('echo', i))));
      t.deepEqual(after, Array.from({ length: 20 }, (_, i) => i));
    });
  }
}

for (const kind of workerKinds) {
  test(`${kind}: an idle worker's poll for the next call never starves its own event loop`, async (t) => {
    const pool = open(kind, { threads: 1 });
    const first = (await runOn(pool, task('ticker', null))) as number;
    const start = performance.now();
    let last = first;
    // 32 calls kept in flight: the next batch is always waiting when the worker polls.
    const lane = async () => {
      while (performance.now() - start < 1500) last = Math.max(last, (await runOn(pool, task('ticker', null))) as number);
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
