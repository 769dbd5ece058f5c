import test from 'ava';
import fc from 'fast-check';
import { MemoryLimiter, SlidingWindow, RateLimitError } from '../../src/index.js';
import { maxInWindow } from '../helpers/services.js';

/** Drives a limiter on a fake clock the way the executor does: acquire, else sleep exactly retryInMs. */
function saturate(limiter: MemoryLimiter, clock: { t: number }, until: number, tokens: () => number) {
  const times: number[] = [];
  const costs: number[] = [];
  while (clock.t < until) {
    const cost = tokens();
    const r = limiter.acquire(cost);
    if (r.admitted) {
      limiter.sent(r.ticket, clock.t);
      times.push(clock.t);
      costs.push(cost);
    } else {
      clock.t += r.retryInMs;
    }
  }
  return { times, costs };
}

test('SlidingWindow: never more than limit in any rolling window, property-checked', (t) => {
  t.notThrows(() =>
    fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 2000 }),
      fc.array(fc.double({ min: 0, max: 300, noNaN: true }), { minLength: 1, maxLength: 400 }),
      (limit, windowMs, gaps) => {
        const w = new SlidingWindow(limit, windowMs);
        let now = 0;
        const admitted: number[] = [];
        for (const g of gaps) {
          now += g;
          if (w.waitFor(1, now) === 0) {
            w.add(1, now);
            admitted.push(now);
          }
        }
        return maxInWindow(admitted, windowMs) <= limit;
      },
    ),
    { numRuns: 300, seed: 42 },
    ),
  );
});

test('SlidingWindow.waitFor names the exact instant capacity frees', (t) => {
  const w = new SlidingWindow(3, 1000);
  w.add(1, 0);
  w.add(1, 100);
  w.add(1, 200);
  t.is(w.waitFor(1, 250), 750);
  t.is(w.waitFor(1, 999.5), 0.5);
  t.is(w.waitFor(1, 1000), 0);
  t.is(w.waitFor(4, 1000), Infinity);
});

test('MemoryLimiter at saturation: zero overshoot and full utilisation in every window, several windows at once', (t) => {
  const clock = { t: 0 };
  const limiter = new MemoryLimiter([{ limit: 10, windowMs: 1000 }, { limit: 25, windowMs: 5000 }], [], () => clock.t);
  const { times } = saturate(limiter, clock, 20_000, () => 0);
  t.true(maxInWindow(times, 1000) <= 10);
  t.true(maxInWindow(times, 5000) <= 25);
  // 25 per 5 s is the binding limit: 20 s allow exactly 100.
  t.is(times.length, 100);
});

test('MemoryLimiter token window: estimates are charged, reconciliation refunds and charges the difference', (t) => {
  const clock = { t: 0 };
  const limiter = new MemoryLimiter([], [{ limit: 1000, windowMs: 60_000 }], () => clock.t);
  const a = limiter.acquire(600);
  t.true(a.admitted);
  const b = limiter.acquire(600);
  t.false(b.admitted);
  t.is(b.admitted ? 'x' : b.reason, 'tokens');
  t.is(b.admitted ? 0 : b.retryInMs, 60_000);
  if (a.admitted) limiter.reconcile(a.ticket, 200); // the call used fewer tokens than estimated
  t.true(limiter.acquire(600).admitted);
  const c = limiter.acquire(150);
  t.true(c.admitted);
  if (c.admitted) limiter.reconcile(c.ticket, 500); // ... or more
  clock.t = 1;
  t.false(limiter.acquire(100).admitted);
});

test('MemoryLimiter token windows at saturation with random costs never overshoot', (t) => {
  t.notThrows(() =>
    fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 50, maxLength: 200 }), (costs) => {
      const clock = { t: 0 };
      const limiter = new MemoryLimiter([], [{ limit: 1000, windowMs: 1000 }], () => clock.t);
      let i = 0;
      const r = saturate(limiter, clock, 10_000, () => costs[i++ % costs.length]!);
      return maxInWindow(r.times, 1000, r.costs) <= 1000;
    }),
    { numRuns: 100, seed: 7 },
    ),
  );
});

test('MemoryLimiter.check refuses an estimate larger than a whole window, non-retryable', (t) => {
  const limiter = new MemoryLimiter([], [{ limit: 100, windowMs: 1000 }]);
  const err = t.throws(() => limiter.check(101), { instanceOf: RateLimitError });
  t.false(err!.retryable);
  t.notThrows(() => limiter.check(100));
});

test('MemoryLimiter.pause holds every admission until it ends; provider limits tighten it', (t) => {
  const clock = { t: 0 };
  const limiter = new MemoryLimiter([{ limit: 100, windowMs: 1000 }], [], () => clock.t);
  limiter.pause(500);
  const r = limiter.acquire(0);
  t.deepEqual(r, { admitted: false, retryInMs: 500, reason: 'paused' });
  clock.t = 500;
  const first = limiter.acquire(0);
  t.true(first.admitted);
  if (first.admitted) limiter.sent(first.ticket, 500);
  limiter.observe({ remainingRequests: 1, resetRequestsMs: 2000 });
  t.true(limiter.acquire(0).admitted);
  const held = limiter.acquire(0);
  t.false(held.admitted);
  clock.t = 2500;
  t.true(limiter.acquire(0).admitted);
});
