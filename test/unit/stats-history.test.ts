import test from 'ava';
import { CallContext, Executor, defineService } from '../../src/index.js';

/** The stats history keeps a small record per call, never its request or result. */

const big = defineService<{ i: number }, string>({
  name: 'big',
  // A fresh 1 MB string per call (not a shared constant), as a real response would be.
  handler: { call: ({ i }) => String(i).padEnd(1 << 20, 'x') },
});
const failing = defineService<unknown, never>({
  name: 'failing',
  handler: {
    call: () => {
      throw Object.assign(new Error(`upstream said ${'y'.repeat(1 << 20)} sk-abcdefghijklmnopqrstuvwxyz0123456789`), { code: 'E_UPSTREAM', body: 'z'.repeat(1 << 20) });
    },
  },
});

async function heapAfter(historySize: number): Promise<number> {
  const ex = new Executor({ pool: { kind: 'inline' }, historySize });
  for (let i = 0; i < 100; i++) {
    const r = await ex.call(big, { i }, CallContext.new('h'));
    if (r.length !== 1 << 20) throw new Error('bad result');
    await ex.call(failing, {}).catch(() => undefined);
  }
  global.gc!();
  await new Promise((r) => setImmediate(r));
  global.gc!();
  const used = process.memoryUsage().heapUsed;
  const s = ex.stats();
  if (s.history.length !== Math.min(historySize, 200)) throw new Error(`history has ${s.history.length}`);
  await ex.close();
  return used;
}

// Serial: it measures the process's heap.
test.serial('100 calls of 1 MB responses keep < 5 MB alive in the history (heap after GC vs historySize 0)', async (t) => {
  await heapAfter(0); // warm-up: code, caches
  const control = await heapAfter(0);
  const kept = await heapAfter(200);
  const extraMb = (kept - control) / 2 ** 20;
  t.log(`heap after GC: history 200 ${(kept / 2 ** 20).toFixed(1)} MB, history 0 ${(control / 2 ** 20).toFixed(1)} MB (+${extraMb.toFixed(2)} MB)`);
  // Before: each record held its call, so 100 results of 1 MB and 100 errors of 2 MB stayed alive (~300 MB).
  t.true(extraMb < 5, `history kept ${extraMb.toFixed(1)} MB`);
});

test('a history record holds ids, status, times, tokens and the error code with a cut, scrubbed message', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' }, historySize: 5 });
  await ex.call(big, { i: 1 });
  await t.throwsAsync(ex.call(failing, {}));
  const [ok, bad] = ex.stats().history;
  t.deepEqual(Object.keys(ok!).sort(), ['branchId', 'createdAt', 'endedAt', 'error', 'id', 'queuedAt', 'service', 'startedAt', 'status', 'tokens']);
  t.is(ok!.status, 'COMPLETED');
  t.is(bad!.error!.code, 'E_UPSTREAM');
  t.true(bad!.error!.message.length <= 1003);
  t.notRegex(bad!.error!.message, /sk-abcdefghij/);
  // A copy: changing what stats() returned does not change the next snapshot.
  ok!.status = 'FAILED';
  t.is(ex.stats().history[0]!.status, 'COMPLETED');
  await ex.close();
});
