import { join } from 'node:path';
import test from 'ava';
import { CallContext, Executor, ValidationError } from '../../src/index.js';
import { setLongTimeout } from '../../src/core/timers.js';
import { WakeTimer } from '../../src/executor/wake-timer.js';
import { CHILD_EXEC_ARGV, EXT, TREE } from '../helpers/paths.js';
import { runNode, type NodeRun } from '../helpers/run-node.js';
import { gate } from '../helpers/services.js';

const identity = (s: ReturnType<Executor['stats']>) => s.accepted === s.completed + s.failed + s.cancelled + s.queued + s.running;

test('defect 1: a signal that is not an AbortSignal is refused with E_VALIDATION before anything is counted or queued', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  const g = gate();
  for (const signal of ['x', {}, null, 0, { aborted: false }, [], () => {}]) {
    const err = t.throws(() => ex.submit(g.service, { id: 1 }, CallContext.withTimeout('b', 30), { signal } as never), { instanceOf: ValidationError });
    t.is(err!.code, 'E_VALIDATION');
    t.regex(err!.message, /\/signal/);
    await t.throwsAsync(ex.call(g.service, { id: 1 }, CallContext.new('b'), { signal } as never), { code: 'E_VALIDATION' });
    t.throws(() => ex.stream(g.service, { id: 1 }, undefined, { signal } as never), { code: 'E_VALIDATION' });
  }
  for (const options of ['x', null, 5, { signa: new AbortController().signal }]) {
    t.throws(() => ex.submit(g.service, { id: 1 }, undefined, options as never), { code: 'E_VALIDATION' });
  }
  t.is(ex.stats().accepted, 0);
  t.is(ex.stats().queued, 0);
  // Past the refused calls' deadline: no timer fires on a phantom call (it would throw uncaught).
  await new Promise((r) => setTimeout(r, 80));
  const ok = ex.submit(g.service, { id: 2 }, CallContext.new('b'), { signal: new AbortController().signal });
  g.resolve(2);
  t.is(await ok.result(), 2);
  const s = ex.stats();
  t.is(s.accepted, 1);
  t.true(identity(s));
  await ex.close();
});

test('defect 2: deadlineMs NaN is refused naming the field, and an earlier 50 ms deadline still fires', async (t) => {
  for (const deadlineMs of [NaN, -Infinity, Infinity]) {
    const err = t.throws(() => CallContext.new('a', { deadlineMs }), { instanceOf: ValidationError });
    t.regex(err!.message, /\/deadlineMs/);
  }
  for (const timeoutMs of [NaN, Infinity, -1, 0]) {
    t.throws(() => CallContext.new('a', { timeoutMs }), { code: 'E_VALIDATION', message: /\/timeoutMs/ });
    t.throws(() => CallContext.withTimeout('a', timeoutMs), { code: 'E_VALIDATION', message: /\/timeoutMs/ });
  }
  const ex = new Executor({ pool: { kind: 'inline' } });
  const g = gate();
  const t0 = performance.now();
  const short = ex.submit(g.service, { id: 1 }, CallContext.withTimeout('a', 50));
  t.throws(() => ex.submit(g.service, { id: 2 }, CallContext.new('a', { deadlineMs: NaN })), { code: 'E_VALIDATION' });
  await t.throwsAsync(short.result(), { code: 'E_DEADLINE' });
  const took = performance.now() - t0;
  t.true(took >= 49 && took < 1000, `settled after ${took.toFixed(0)} ms`);
  t.true(identity(ex.stats()));
  await ex.close();
});

// Serial: process CPU time must not include the other tests of this file running beside it.
test.serial('defect 2: a WakeTimer asked for NaN fires once, soon, and does not spin', async (t) => {
  let fired = 0;
  const w = new WakeTimer(() => fired++);
  // CPU ms this process uses in 100 ms: idle (the controls, before and after) and with the timer.
  const cpuOver100ms = async (start: () => void) => {
    const before = process.cpuUsage();
    start();
    await new Promise((r) => setTimeout(r, 100));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };
  const idleBefore = await cpuOver100ms(() => {});
  const withNaN = await cpuOver100ms(() => w.at(NaN));
  const idleAfter = await cpuOver100ms(() => {});
  t.is(fired, 1);
  t.false(w.armed);
  // A setImmediate loop would burn most of the 100 ms; the process's own background work is in the controls.
  t.true(withNaN < Math.max(idleBefore, idleAfter) + 30, `${withNaN} ms of CPU in 100 ms; idle ${idleBefore} and ${idleAfter} ms`);
});

test('defect 3: setLongTimeout waits in steps Node can take, and fires at the end', async (t) => {
  const t0 = performance.now();
  await new Promise<void>((resolve) => setLongTimeout(resolve, 30));
  t.true(performance.now() - t0 >= 29);
  let fired = false;
  const far = setLongTimeout(() => (fired = true), 3e9);
  await new Promise((r) => setTimeout(r, 30));
  far.clear();
  t.false(fired);
});

function runChild(mode: string): Promise<NodeRun> {
  return runNode([...CHILD_EXEC_ARGV, join(TREE, `test/helpers/far-timers-child${EXT}`), mode]);
}

test('defect 3: far deadlines and timers cost nothing: no TimeoutOverflowWarning, idle CPU near a control', async (t) => {
  const control = await runChild('control');
  const far = await runChild('far');
  t.is(control.code, 0, control.stderr);
  t.is(far.code, 0, far.stderr);
  t.notRegex(far.stderr, /TimeoutOverflowWarning/);
  const c = JSON.parse(control.stdout) as { cpuMs: number };
  const f = JSON.parse(far.stdout) as { cpuMs: number; stats: { accepted: number; queued: number; running: number } };
  // Before the fix the far timers re-armed every 1 ms: 5-13% of a core (30-80 ms over 600 ms).
  t.true(f.cpuMs < c.cpuMs * 2 + 15, `far ${f.cpuMs.toFixed(1)} ms vs control ${c.cpuMs.toFixed(1)} ms of CPU over 600 ms idle`);
  t.is(f.stats.accepted, 2);
  t.log(`idle CPU over 600 ms: far ${f.cpuMs.toFixed(1)} ms, control ${c.cpuMs.toFixed(1)} ms`);
});
