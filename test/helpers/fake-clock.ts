import FakeTimers from '@sinonjs/fake-timers';
import type { ExecutionContext, TestFn } from 'ava';
import { performance as clockSource } from 'node:perf_hooks';

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

/**
 * Runs `fn` (until its promise settles, if it returns one) while the library's clock reads
 * `read(now)` instead of `now`, with no timer run: a clock that jumps between two reads, as a GC
 * pause or a starved machine makes it. It patches the object the library's clock reads
 * (perf_hooks' `performance`, src/core/clock.ts), not the global one the fake clock replaced.
 */
export function withClockReads<T>(read: (now: number) => number, fn: () => T): T {
  const real = clockSource.now;
  clockSource.now = () => read(real.call(clockSource));
  const restore = (): void => {
    clockSource.now = real;
  };
  let out: T;
  try {
    out = fn();
  } catch (err) {
    restore();
    throw err;
  }
  if (out instanceof Promise) return out.finally(restore) as T;
  restore();
  return out;
}
