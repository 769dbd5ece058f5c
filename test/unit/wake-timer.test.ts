import test from 'ava';
import { MAX_TIMER_MS } from '../../src/core/bounds.js';
import { WakeTimer } from '../../src/executor/wake-timer.js';
import { fakeClockEach, settle, withClockReads } from '../helpers/fake-clock.js';

// The executor's one timer, on a fake clock: each instant is checked exactly.

const fake = fakeClockEach(test);
const { advance } = fake;

function counting(): { timer: WakeTimer; fired: number[] } {
  const fired: number[] = [];
  const timer = new WakeTimer(() => fired.push(performance.now()));
  return { timer, fired };
}


fake.serial('fires once, at the exact instant and not before, then is disarmed', async (t) => {
  const { timer, fired } = counting();
  const due = performance.now() + 50.37;
  timer.at(due);
  t.true(timer.armed);
  await advance(50.36);
  t.deepEqual(fired, [], 'not 10 µs early');
  t.true(timer.armed);
  await advance(0.01);
  t.is(fired.length, 1);
  t.true(Math.abs(fired[0]! - due) < 1e-6, `fired at ${fired[0]! - due} ms from the instant`);
  t.false(timer.armed);
  await advance(1000);
  t.is(fired.length, 1, 'once');
});

fake.serial('an earlier instant replaces a later one; a later one never postpones an earlier one', async (t) => {
  const { timer, fired } = counting();
  const t0 = performance.now();
  timer.at(t0 + 100);
  timer.at(t0 + 40);
  timer.at(t0 + 70);
  await advance(39.9);
  t.deepEqual(fired, []);
  await advance(0.1);
  t.deepEqual(fired.map((at) => at - t0), [40]);
  await advance(100);
  t.is(fired.length, 1, 'the instants given while armed are not remembered');
});

fake.serial('never fires inside at(), even for an instant already past; fires on a later turn', async (t) => {
  const { timer, fired } = counting();
  timer.at(performance.now() - 5);
  t.deepEqual(fired, []);
  await settle();
  t.is(fired.length, 1);
});

fake.serial('never fires inside at() when the clock moves on between its reads (a GC pause there)', async (t) => {
  const { timer, fired } = counting();
  const due = performance.now() + 3;
  // Each read 4 ms after the last: the instant is ahead at at()'s read, past at any later one.
  let reads = 0;
  withClockReads((now) => now + 4 * reads++, () => timer.at(due));
  t.true(reads >= 1);
  t.deepEqual(fired, [], 'not inside at()');
  t.true(timer.armed);
  await advance(3);
  t.is(fired.length, 1, 'at its instant, on a later turn');
});

fake.serial('NaN means now: it fires on a later turn and leaves no loop running', async (t) => {
  const { timer, fired } = counting();
  timer.at(Number.NaN);
  await settle();
  t.is(fired.length, 1);
  t.false(timer.armed);
  t.is(fake.clock.countTimers(), 0);
});

fake.serial('cancel() disarms: nothing fires, no timer is left', async (t) => {
  const { timer, fired } = counting();
  timer.at(performance.now() + 30);
  t.is(fake.clock.countTimers(), 1);
  timer.cancel();
  t.false(timer.armed);
  t.is(fake.clock.countTimers(), 0);
  await advance(100);
  t.deepEqual(fired, []);
  // Armed again after a cancel, for an instant later than the cancelled one.
  timer.at(performance.now() + 10);
  await advance(10);
  t.is(fired.length, 1);
});

fake.serial('a far instant waits in steps a Node timer can take, and still fires exactly', async (t) => {
  const { timer, fired } = counting();
  const due = performance.now() + 2 * MAX_TIMER_MS + 123.5;
  timer.at(due);
  await advance(MAX_TIMER_MS);
  await advance(MAX_TIMER_MS);
  t.deepEqual(fired, []);
  t.is(fake.clock.countTimers(), 1, 're-armed for what is left');
  await advance(123.4);
  t.deepEqual(fired, []);
  await advance(0.1);
  t.is(fired.length, 1);
  t.true(Math.abs(fired[0]! - due) < 1e-6);
});
