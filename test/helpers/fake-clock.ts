import FakeTimers from '@sinonjs/fake-timers';
import type { ExecutionContext, TestFn } from 'ava';

export type FakeClock = ReturnType<typeof FakeTimers.install>;

/**
 * Fake timers for tests where time is the subject. `performance.now` (the library's monotonic
 * clock, src/core/clock.ts), `Date`, `setTimeout` and `setInterval` are faked; `setImmediate`
 * stays real, because the executor's wake timer covers the last millisecond before an instant
 * with `setImmediate` turns that wait for the clock to reach it: with fake immediates that
 * wait would spin inside `tick()`. Moving the clock is `clock.tick(ms)`; `settle()` then lets
 * the real immediates and microtasks run.
 */
export function installClock(): FakeClock {
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'], now: 1_000_000 });
  // The fake performance.now() starts at 0, where `now() - start` and `now() + start` agree:
  // start the monotonic clock well past it, so a broken sign shows.
  clock.tick(1_000.25);
  return clock;
}

/** A few real event-loop turns: pending immediates and microtasks run, fake time stands still. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A promise's state without waiting for it: read it after the clock moves. */
export function track<T>(p: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const s: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (v) => Object.assign(s, { done: true, value: v }),
    (e: unknown) => Object.assign(s, { done: true, error: e }),
  );
  return s;
}

/**
 * Serial tests that each run on a fake clock of their own: `fake.serial(title, impl)` installs
 * one before the test and removes it in the test's teardown. Per test, not ava's beforeEach:
 * ava's hooks apply to every test in the process, and test:fast runs several files in one.
 * `fake.clock` is the current one; `fake.advance(ms)` moves it, then lets the real immediates
 * and microtasks run.
 */
export function fakeClockEach(test: TestFn): {
  readonly clock: FakeClock;
  serial(title: string, impl: (t: ExecutionContext) => void | Promise<void>): void;
  advance(ms: number): Promise<void>;
} {
  let current: FakeClock | undefined;
  return {
    get clock() {
      return current!;
    },
    serial(title, impl) {
      test.serial(title, (t) => {
        current = installClock();
        t.teardown(() => {
          current?.uninstall();
          current = undefined;
        });
        return impl(t);
      });
    },
    async advance(ms: number) {
      current!.tick(ms);
      await settle();
    },
  };
}
