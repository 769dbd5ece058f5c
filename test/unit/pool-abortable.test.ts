import test from 'ava';
import { CallContext } from '../../src/core/call-context.js';
import { defineService } from '../../src/core/service.js';
import { Executor } from '../../src/executor/executor.js';
import { counters, changed } from '../helpers/pool-fixtures.js';
import { EXT } from '../helpers/paths.js';

const handler = (name: string) => new URL(`../fixtures/handlers/${name}${EXT}`, import.meta.url);

for (const kind of ['piscina', 'tinypool'] as const) {
  test(`${kind}: a service that never reads its signal (abortable: false) shares one; every other call gets its own`, async (t) => {
    const ex = new Executor({ pool: { kind, threads: 1 } });
    t.teardown(() => ex.close());
    const quiet = defineService({ name: 'quiet', module: handler('signal-identity'), abortable: false });
    const live = defineService({ name: 'live', module: handler('signal-identity') });
    let last: { distinct: number; aborted: boolean; real: boolean } | undefined;
    for (let i = 0; i < 3; i++) last = (await ex.call(quiet, null, CallContext.new('b'))) as typeof last;
    t.deepEqual(last, { distinct: 1, aborted: false, real: true });
    for (let i = 0; i < 3; i++) last = (await ex.call(live, null, CallContext.new('b'))) as typeof last;
    t.deepEqual(last, { distinct: 4, aborted: false, real: true }, 'three fresh signals beside the shared one');
  });

  test(`${kind}: cancelling an abortable: false call settles it at once; a handler still running is left to the grace period`, async (t) => {
    const ex = new Executor({ pool: { kind, threads: 1, abortGraceMs: 100 } });
    t.teardown(() => ex.close({ drain: false }));
    const started = counters(1);
    const stuck = defineService({ name: 'stuck', module: handler('ignores-abort'), abortable: false });
    const ac = new AbortController();
    const p = ex.call(stuck, { mode: 'pending', started }, CallContext.new('b'), { signal: ac.signal });
    await changed(started, 0);
    ac.abort();
    await t.throwsAsync(p, { code: 'E_CANCELLED' });
    // After the grace period the pool terminates the worker (a call sent to it meanwhile fails
    // with E_WORKER, as documented) and replaces it: a later call runs.
    const echo = defineService({ name: 'echo', module: handler('echo') });
    const first = await ex.call(echo, 'after', CallContext.new('b')).catch((err: unknown) => err);
    if (first !== 'after') {
      t.is((first as { code?: string }).code, 'E_WORKER');
      t.is(await ex.call(echo, 'after', CallContext.new('b')), 'after');
    }
  });
}

for (const kind of ['inline', 'piscina', 'tinypool'] as const) {
  test(`${kind}: abortable: 'light' gives each call its own light signal, which a cancel aborts with the reason`, async (t) => {
    const ex = new Executor({ pool: { kind, threads: 1 } });
    t.teardown(() => ex.close({ drain: false }));
    const identity = defineService({ name: 'light-identity', module: handler('signal-identity'), abortable: 'light' });
    t.true(identity.abortable);
    t.true(identity.lightSignal);
    let last: { distinct: number; aborted: boolean; real: boolean } | undefined;
    for (let i = 0; i < 3; i++) last = (await ex.call(identity, null, CallContext.new('b'))) as typeof last;
    t.deepEqual(last, { distinct: 3, aborted: false, real: false }, 'three light signals, none a real AbortSignal');

    const slow = defineService({ name: 'light-slow', module: handler('slow'), abortable: 'light' });
    const started = counters(1);
    const seen = counters(1);
    const ac = new AbortController();
    const p = ex.call(slow, { ms: 60_000, started, seen }, CallContext.new('b'), { signal: ac.signal });
    await changed(started, 0);
    ac.abort();
    await t.throwsAsync(p, { code: 'E_CANCELLED' });
    await changed(seen, 0);
    t.is(Atomics.load(seen, 0), 1, 'the handler heard the abort on its light signal');
  });
}

test("abortable accepts true, false and 'light' only, naming the field", (t) => {
  const err = t.throws(() => defineService({ name: 'x', module: handler('echo'), abortable: 'yes' as unknown as boolean }));
  t.is((err as { code?: string }).code, 'E_CONFIG');
  t.regex(err!.message, /\/abortable.*true, false or 'light', got 'yes'/);
  t.false(defineService({ name: 'x', module: handler('echo'), abortable: false }).lightSignal);
  t.false(defineService({ name: 'x', module: handler('echo') }).lightSignal);
});
