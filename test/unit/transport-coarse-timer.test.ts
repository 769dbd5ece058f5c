import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { COARSE_MIN_MS, coarseTimerState, startTimer } from '../../src/transport/coarse-timer.js';
import { until } from '../helpers/wait-for.js';

// The module's one sweep is shared: the serial tests (which check its state, or a short timer's
// lateness) run first, alone; the others only watch their own long timers, so they run side by
// side.
const firedAt = (delayMs: number) => {
  const t0 = performance.now();
  const firings: number[] = [];
  const timer = startTimer(delayMs, () => void firings.push(performance.now() - t0));
  return { timer, at: () => firings[0] ?? -1, firings, origin: t0 };
};

test('coarse timer: a long delay fires once, never early, within one second late', async (t) => {
  const a = firedAt(COARSE_MIN_MS);
  const b = firedAt(COARSE_MIN_MS + 300);
  await sleep(COARSE_MIN_MS - 50);
  t.is(a.at(), -1, 'not before its delay');
  await sleep(2500);
  t.true(a.at() >= COARSE_MIN_MS && a.at() <= COARSE_MIN_MS + 1000 + 300, `fired at ${a.at()} ms`);
  t.true(b.at() >= COARSE_MIN_MS + 300 && b.at() <= COARSE_MIN_MS + 1300 + 300, `fired at ${b.at()} ms`);
  t.is(a.firings.length, 1, `fired ${a.firings.length} times`);
  t.is(b.firings.length, 1, `fired ${b.firings.length} times`);
});

test('coarse timer: clear() stops it; refresh() restarts the full delay', async (t) => {
  const cleared = firedAt(COARSE_MIN_MS);
  cleared.timer.clear();
  const refreshed = firedAt(COARSE_MIN_MS);
  // The instant of the last refresh as it happened: a busy loop may run the interval late.
  let lastRefresh = 0;
  const refresher = setInterval(() => {
    refreshed.timer.refresh();
    lastRefresh = performance.now() - refreshed.origin;
  }, 200);
  await sleep(1800);
  clearInterval(refresher);
  t.is(refreshed.at(), -1, 'kept alive by refreshes');
  await sleep(2500);
  t.is(cleared.at(), -1);
  t.is(refreshed.firings.length, 1, 'a refreshed timer fires once');
  t.true(refreshed.at() >= lastRefresh + COARSE_MIN_MS, `fired at ${refreshed.at()} ms, last refresh at ${lastRefresh} ms`);
});

test.serial('coarse timer: short delays get their own timer and fire on time', async (t) => {
  const s = firedAt(60);
  const c = firedAt(80);
  c.timer.clear();
  await sleep(400);
  t.true(s.at() >= 59 && s.at() < 350, `fired at ${s.at()} ms`);
  t.is(c.at(), -1);
});

test.serial('coarse timer: a timer started from a firing callback is kept; the sweep stops once empty', async (t) => {
  let second = -1;
  const t0 = performance.now();
  startTimer(COARSE_MIN_MS, () => void startTimer(COARSE_MIN_MS, () => void (second = performance.now() - t0)));
  await until(() => second !== -1 && !coarseTimerState().sweeping, 6000, 'the second timer to fire and the sweep to stop');
  t.true(second >= 2 * COARSE_MIN_MS, `second fired at ${second} ms`);
  t.deepEqual(coarseTimerState(), { entries: 0, sweeping: false }, 'the sweep stops once no timer is left');
});

test.serial('coarse timer: a cleared timer lets go of its callback at once, not at the next sweep', async (t) => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return t.fail('run with --expose-gc (the test script does)');
  let ref: WeakRef<object> | undefined;
  (() => {
    const held = { payload: new Array(1000).fill(1) };
    ref = new WeakRef(held);
    startTimer(COARSE_MIN_MS * 10, () => void held.payload.length).clear();
  })();
  t.true(coarseTimerState().entries > 0, 'still listed until the next sweep');
  await new Promise((r) => setImmediate(r));
  gc();
  await new Promise((r) => setImmediate(r));
  t.is(ref!.deref(), undefined);
});
