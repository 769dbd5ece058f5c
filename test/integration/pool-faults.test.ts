import test from 'ava';
import { CancelledError, Executor, WorkerCrashError, defineService, type Service } from '../../src/index.js';
import { EXT } from '../helpers/paths.js';
import { changed, counters } from '../helpers/pool-fixtures.js';

// Worker faults seen through the public API (Executor + a worker pool). Grace periods are
// timed in real time: the grace timer and the worker's termination live on two threads, and
// the bound is measured against a control (a fresh worker's start) in the same run.

const fixture = (name: string): Service => defineService({ name, module: new URL(`../fixtures/handlers/${name}${EXT}`, import.meta.url) });
const echo = fixture('echo');
const ignoresAbort = fixture('ignores-abort');

for (const kind of ['piscina', 'tinypool'] as const) {
  test.serial(`${kind}: an aborted handler that ignores its signal keeps its worker for abortGraceMs, then the worker is terminated and replaced`, async (t) => {
    const graceMs = 400;
    const ex = new Executor({ concurrency: 4, pool: { kind, threads: 1, abortGraceMs: graceMs } });
    t.is(await ex.call(echo, 'warm'), 'warm');
    // A bystander on the same (only) worker fails the moment that worker is terminated.
    const bystander = ex.call(fixture('slow'), { ms: 60_000 });
    const started = counters(1);
    const ac = new AbortController();
    const ignoring = ex.call(ignoresAbort, { mode: 'pending', started }, undefined, { signal: ac.signal });
    await changed(started, 0);
    const abortedAt = performance.now();
    // The control: a plain timer of the grace, set at the abort, shows how late this loop runs.
    let controlAt = 0;
    const control = new Promise<void>((r) => setTimeout(() => r(void (controlAt = performance.now() - abortedAt)), graceMs));
    ac.abort(new CancelledError('stop'));
    await t.throwsAsync(ignoring, { code: 'E_CANCELLED' });
    t.true(performance.now() - abortedAt < graceMs, 'the aborted call settles at once, not after the grace');
    const err = await t.throwsAsync(bystander, { instanceOf: WorkerCrashError });
    const terminatedAfter = performance.now() - abortedAt;
    await control;
    t.regex(err!.message, /ignored its abort signal for 400 ms/);
    t.log(`terminated ${terminatedAfter.toFixed(0)} ms after the abort (grace ${graceMs} ms; control timer ${controlAt.toFixed(0)} ms)`);
    t.true(terminatedAfter >= graceMs - 1, `the grace was cut short: ${terminatedAfter.toFixed(0)} ms`);
    // Termination itself takes a few ms to a few hundred on a loaded machine; 2x the grace binds.
    t.true(terminatedAfter < Math.max(controlAt, graceMs) + graceMs, `terminated after ${terminatedAfter.toFixed(0)} ms`);
    t.is(await ex.call(echo, 'after'), 'after', 'a new worker answers');
    await ex.close();
  });
}

test.serial('piscina: calls sent to a worker that dies before starting them run once, on another worker', async (t) => {
  const ex = new Executor({ concurrency: 64, pool: { kind: 'piscina', threads: 2, abortGraceMs: 60_000 } });
  const runCounter = fixture('run-counter');
  // Both workers up and answering.
  await Promise.all(Array.from({ length: 8 }, (_, i) => ex.call(echo, i)));
  const started = counters(1);
  const dying = ex.call(fixture('spin-exit'), { ms: 400, started });
  const deadThread = await changed(started, 0);
  // Sent while one worker spins: least-loaded dispatch gives it its share, which it never starts.
  const runs = counters(40);
  let diedAt = Infinity;
  const finished: number[] = [];
  const calls = Array.from({ length: 40 }, (_, index) =>
    ex.call(runCounter, { runs, index }).then((r) => {
      finished.push(performance.now());
      return r as { index: number; threadId: number };
    }),
  );
  await t.throwsAsync(dying.finally(() => (diedAt = performance.now())), { instanceOf: WorkerCrashError });
  const results = await Promise.all(calls);
  t.deepEqual(results.map((r) => r.index), Array.from({ length: 40 }, (_, i) => i));
  t.deepEqual([...runs], Array(40).fill(1), 'each call ran exactly once');
  t.false(results.some((r) => r.threadId === deadThread), 'none ran on the worker that died');
  const late = finished.filter((f) => f >= diedAt).length;
  t.log(`${late} of 40 calls waited on the dying worker and ran after it died`);
  t.true(late > 0, 'some calls had been sent to the dying worker');
  await ex.close();
});

test.serial('piscina: a worker that crashes is replaced by a new thread; the pool keeps its size', async (t) => {
  const ex = new Executor({ concurrency: 64, pool: { kind: 'piscina', threads: 2 } });
  const runCounter = fixture('run-counter');
  const threadsOf = async (n: number) => {
    const runs = counters(n);
    const got = await Promise.all(Array.from({ length: n }, (_, index) => ex.call(runCounter, { runs, index })));
    return new Set(got.map((r) => (r as { threadId: number }).threadId));
  };
  const before = await threadsOf(64);
  t.is(before.size, 2, 'both workers answer');
  await t.throwsAsync(ex.call(fixture('process-exit'), {}), { instanceOf: WorkerCrashError });
  const after = await threadsOf(64);
  t.is(after.size, 2, 'two workers again');
  const fresh = [...after].filter((id) => !before.has(id));
  t.is(fresh.length, 1, `one thread is new (before ${[...before]}, after ${[...after]})`);
  await ex.close();
});

test.serial('piscina: a stream\'s producer runs ahead by its credit, and gets credit back in batches of half the window', async (t) => {
  const ex = new Executor({ pool: { kind: 'piscina', threads: 1, streamCredit: 16 } });
  t.teardown(() => ex.close({ drain: false }));
  const produced = counters(2);
  const it = ex.stream(fixture('stream-counted'), { n: 10_000, produced })[Symbol.asyncIterator]();
  const settleProducer = async (atLeast: number) => {
    // No event says "the producer is waiting": wait until it reaches what it may, then a while more.
    const end = performance.now() + 5000;
    while (Atomics.load(produced, 0) < atLeast && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 150));
    return Atomics.load(produced, 0);
  };
  t.is((await it.next()).value, 0);
  t.is(await settleProducer(16), 16, 'the whole credit, and no more');
  // Reading 7 of the window returns no credit yet ...
  for (let i = 1; i < 7; i++) t.is((await it.next()).value, i);
  t.is(await settleProducer(16), 16, 'no credit back before half the window is read');
  // ... the 8th read returns 8 at once.
  t.is((await it.next()).value, 7);
  t.is(await settleProducer(24), 24, 'half the window came back in one batch');
  await it.return?.();
  await changed(produced, 1);
});
