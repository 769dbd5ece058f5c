import { AbortHandle } from '../../src/core/abort-handle.js';
import test from 'ava';
import { CancelledError, WorkerCrashError } from '../../src/core/errors.js';
import { createPool } from '../../src/pool/create-pool.js';
import type { Pool, PoolKind } from '../../src/pool/types.js';
import { changed, counters, task } from '../helpers/pool-fixtures.js';

const kinds: PoolKind[] = ['piscina', 'tinypool', 'inline'];
const pools = new Map<PoolKind, Pool>();

test.before(() => {
  for (const kind of kinds) pools.set(kind, createPool({ kind, threads: 2, streamCredit: 16 }));
});
test.after.always(async () => {
  await Promise.all([...pools.values()].map((p) => p.close()));
});

async function collect(it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const c of it) out.push(c);
  return out;
}

for (const kind of kinds) {
  test(`${kind}: .stream() yields the handler's chunks in order, then ends`, async (t) => {
    const pool = pools.get(kind)!;
    t.deepEqual(await collect(pool.stream(task('echo', { n: 1000 }), new AbortHandle())), Array.from({ length: 1000 }, (_, i) => i));
    t.deepEqual(await collect(pool.stream(task('echo', { n: 0 }), new AbortHandle())), []);
  });

  test(`${kind}: an unread stream's producer stops at its credit`, async (t) => {
    const pool = pools.get(kind)!;
    const produced = counters(2);
    const it = pool.stream(task('stream-counted', { n: 10_000, produced }), new AbortHandle())[Symbol.asyncIterator]();
    t.is((await it.next()).value, 0);
    // No signal says "the producer is waiting", so give it ample time to overrun if it could.
    await new Promise((r) => setTimeout(r, 300));
    const n = Atomics.load(produced, 0);
    if (kind === 'inline') {
      // No thread, no credit: the generator is pulled, so it made only what was read (and the next).
      t.true(n >= 1 && n <= 2, `produced ${n}`);
    } else {
      // It ran ahead by its whole credit of 16 (so there is a window to stop at), and no further.
      t.true(n >= 16 && n <= 16 + 1, `produced ${n}`);
    }
    await it.return?.();
    await changed(produced, 1);
  });

  test(`${kind}: aborting a stream's signal reaches the producer and rejects the pending read`, async (t) => {
    const pool = pools.get(kind)!;
    const ac = new AbortController();
    const it = pool.stream(task('stream-timed', { n: 1000, everyMs: 50 }), AbortHandle.from(ac.signal))[Symbol.asyncIterator]();
    t.is((await it.next()).value, 'token-0 ');
    const pending = it.next();
    ac.abort(new CancelledError('stop'));
    await t.throwsAsync(pending, { code: 'E_CANCELLED' });
  });

  test(`${kind}: a stream on a module without a stream export fails with E_CONFIG`, async (t) => {
    const pool = pools.get(kind)!;
    await t.throwsAsync(collect(pool.stream(task('noop', {}), new AbortHandle())), { code: 'E_CONFIG' });
  });
}

for (const kind of ['piscina', 'tinypool'] as PoolKind[]) {
  test(`${kind}: a worker that dies mid-stream delivers the chunks sent, then WorkerCrashError`, async (t) => {
    const pool = createPool({ kind, threads: 1 });
    t.teardown(() => pool.close());
    const got: unknown[] = [];
    const err = await t.throwsAsync(async () => {
      for await (const c of pool.stream(task('stream-crash', { before: 3 }), new AbortHandle())) got.push(c);
    });
    t.deepEqual(got, [0, 1, 2]);
    t.true(err instanceof WorkerCrashError);
    t.deepEqual(await collect(pool.stream(task('echo', { n: 3 }), new AbortHandle())), [0, 1, 2]);
  });

  const deaths = [
    ['exits in the same turn as its last chunk', { before: 3, waitMs: 0 }],
    ['exits right after chunks 10 ms apart', { before: 3, gapMs: 10, waitMs: 0 }],
    ['throws uncaught in the same turn as its last chunk', { before: 3, throwAfter: true }],
  ] as const;
  for (const [how, request] of deaths) {
    test(`${kind}: a worker that ${how} still delivers every chunk, then WorkerCrashError`, async (t) => {
      const pool = createPool({ kind, threads: 1 });
      t.teardown(() => pool.close());
      const got: unknown[] = [];
      const read = (async () => {
        for await (const c of pool.stream(task('stream-crash', request), new AbortHandle())) got.push(c);
      })();
      // A stream that never settled would fail here with what the pool knew, not at ava's
      // timeout with nothing. (What hung this test with tinypool was the teardown's close(),
      // fixed in tinypool-host.ts and tested in pool-close.)
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        read.then(() => 'ended' as const, (e: unknown) => ({ err: e })),
        new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 30_000))),
      ]);
      clearTimeout(timer);
      const workers = (pool as { workers?: unknown }).workers;
      if (outcome === 'hung') return t.fail(`neither ended nor failed in 30 s; chunks ${JSON.stringify(got)}; workers ${JSON.stringify(workers)}`);
      t.deepEqual(got, [0, 1, 2]);
      t.not(outcome, 'ended', 'the stream must fail');
      if (outcome !== 'ended') t.true(outcome.err instanceof WorkerCrashError, String(outcome.err));
    });
  }
}
