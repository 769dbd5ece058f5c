import test from 'ava';
import fc from 'fast-check';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import type { Acquisition } from '../../src/limits/types.js';
import { maxInWindow } from '../helpers/services.js';

function admitted(a: Acquisition): Extract<Acquisition, { admitted: true }> {
  if (!a.admitted) throw new Error(`refused: ${a.reason} for ${a.retryInMs} ms`);
  return a;
}

function dyadic(min: number, max: number): fc.Arbitrary<number> {
  return fc.integer({ min: min * 64, max: max * 64 }).map((k) => k / 64);
}

interface Ev {
  t: number;
  /** Insertion order: events at the same instant run in the order they were scheduled. */
  n: number;
  run: () => void;
}

/** A binary min-heap of events by time. */
class EventHeap {
  readonly #a: Ev[] = [];
  #n = 0;
  push(e: { t: number; run: () => void }): void {
    const a = this.#a;
    a.push({ ...e, n: this.#n++ });
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Ev | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Ev, y: Ev): boolean {
  return x.t < y.t || (x.t === y.t && x.n < y.n);
}

interface Schedule {
  /** ms between offered requests */
  gaps: number[];
  /** admission -> the request leaves */
  sendDelays: number[];
  /** the request leaves -> the limiter hears of it */
  reportDelays: number[];
  /** The control: report the admission instant instead of the send (accounting at admission). */
  placeAtAdmission?: boolean;
}

/**
 * Runs a limiter on a fake clock the way the executor does (a queue, one timer for the
 * instant a refusal names, send reports arriving late and out of order) and returns the
 * instants requests left.
 */
function simulate(limiter: MemoryLimiter, clock: { t: number }, s: Schedule, until: number): number[] {
  const events = new EventHeap();
  const sends: number[] = [];
  let queued = 0;
  let wakeAt = Infinity;
  let i = 0;
  const pump = () => {
    while (queued > 0) {
      const r = limiter.acquire(0);
      if (!r.admitted) {
        if (!(r.retryInMs > 0)) throw new Error(`refused with retryInMs ${r.retryInMs}: the executor would spin`);
        const at = clock.t + r.retryInMs;
        if (at < wakeAt) {
          wakeAt = at;
          events.push({ t: at, run: () => ((wakeAt = Infinity), pump()) });
        }
        return;
      }
      queued--;
      const k = i++;
      const sendAt = clock.t + s.sendDelays[k % s.sendDelays.length]!;
      const reportAt = sendAt + s.reportDelays[k % s.reportDelays.length]!;
      sends.push(sendAt);
      const placeAt = s.placeAtAdmission === true ? clock.t : sendAt;
      events.push({ t: reportAt, run: () => limiter.sent(r.ticket, placeAt) });
    }
  };
  let offer = 0;
  for (let j = 0; offer < until; j++) {
    offer += s.gaps[j % s.gaps.length]!;
    events.push({ t: offer, run: () => (queued++, pump()) });
  }
  for (let ev = events.pop(); ev !== undefined; ev = events.pop()) {
    clock.t = Math.max(clock.t, ev.t);
    ev.run();
  }
  return sends.sort((a, b) => a - b);
}

test('a slot admitted but not reported is held: it counts in every window and never expires', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([{ limit: 2, windowMs: 1000 }], [], () => clock.t);
  const a = admitted(l.acquire(0));
  const b = admitted(l.acquire(0));
  clock.t = 60_000;
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1000, reason: 'requests' }, 'a minute later both still count');
  l.sent(a.ticket, 60_000);
  t.false(l.acquire(0).admitted, 'one placed now, one still held');
  l.sent(b.ticket, 59_000); // reported after a later report: placed at the latest time written, never earlier
  clock.t = 60_999;
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1, reason: 'requests' });
  clock.t = 61_000;
  t.true(l.acquire(0).admitted);
});

test('sent() never places a slot before its admission, and only its first report counts', (t) => {
  const clock = { t: 500 };
  const l = new MemoryLimiter([{ limit: 1, windowMs: 1000 }], [], () => clock.t);
  const a = admitted(l.acquire(0));
  l.sent(a.ticket, 100);
  l.sent(a.ticket, 5000);
  clock.t = 1499;
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1, reason: 'requests' }, 'placed at its admission (500), not at 100');
  clock.t = 1500;
  t.true(l.acquire(0).admitted, 'the second report (5000) was ignored');
});

test('a call that settles without sending is placed at its settle instant (never released)', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([{ limit: 1, windowMs: 1000 }], [], () => clock.t);
  const a = admitted(l.acquire(0));
  clock.t = 300; // cancelled before its handler started: the executor reports the settle instant
  l.sent(a.ticket, 300);
  clock.t = 1299;
  t.false(l.acquire(0).admitted);
  clock.t = 1300;
  t.true(l.acquire(0).admitted);
});

test('token windows: held estimates count, reconcile before and after the send report', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([], [{ limit: 100, windowMs: 1000 }], () => clock.t);
  const a = admitted(l.acquire(60));
  t.false(l.acquire(60).admitted);
  l.reconcile(a.ticket, 20); // usage known before the report: the held amount shrinks
  const b = admitted(l.acquire(60));
  l.sent(a.ticket, 10);
  l.sent(b.ticket, 20);
  l.reconcile(b.ticket, 80); // after: the placed entry is charged the difference
  t.false(l.acquire(1).admitted);
  clock.t = 1010;
  t.false(l.acquire(21).admitted, 'a (20) left; b (80 tokens) is still in the window');
  clock.t = 1020;
  t.true(l.acquire(100).admitted);
});

test('property: never more than limit requests SENT in any rolling window, whatever the send and report delays', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 10, max: 1000 }),
        // Multiples of 1/64 ms: sums stay exact, so the observer and the limiter agree to the last bit.
        fc.array(dyadic(1, 50), { minLength: 1, maxLength: 50 }),
        fc.array(dyadic(0, 400), { minLength: 1, maxLength: 50 }),
        fc.array(dyadic(0, 200), { minLength: 1, maxLength: 50 }),
        (limit, windowMs, gaps, sendDelays, reportDelays) => {
          const clock = { t: 0 };
          const l = new MemoryLimiter([{ limit, windowMs }], [], () => clock.t);
          const sends = simulate(l, clock, { gaps, sendDelays, reportDelays }, 3000);
          return maxInWindow(sends, windowMs) <= limit;
        },
      ),
      { numRuns: 300, seed: 14 },
    ),
  );
});

test('control: the same schedule counted at admission lets a late batch and an on-time one into one window', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([{ limit: 10, windowMs: 1000 }], [], () => clock.t);
  const schedule = { gaps: [10], sendDelays: [120, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], reportDelays: [0] };
  const atAdmission = simulate(l, clock, { ...schedule, placeAtAdmission: true }, 5000);
  t.true(maxInWindow(atAdmission, 1000) > 10, 'admission-time accounting overshoots at the door');
  const clock2 = { t: 0 };
  const sendTime = simulate(new MemoryLimiter([{ limit: 10, windowMs: 1000 }], [], () => clock2.t), clock2, schedule, 5000);
  t.is(maxInWindow(sendTime, 1000), 10);
});

test('at saturation with prompt send reports the limit is used: >= 97% of limit per window', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([{ limit: 10, windowMs: 1000 }], [], () => clock.t);
  // Offered 4x the limit; requests leave 0.3 ms after admission and are reported 0.2 ms later.
  const sends = simulate(l, clock, { gaps: [25], sendDelays: [0.3], reportDelays: [0.2] }, 20_000);
  t.is(maxInWindow(sends, 1000), 10);
  const inside = sends.filter((s) => s < 20_000).length;
  t.log(`${inside} sent in 20 s of a 10/s limit: ${((inside / 200) * 100).toFixed(1)}%`);
  t.true(inside >= 194, `${inside} < 97% of 200`);
});

test('widen(ms) adds a guard band to every window and costs limit x guard / (window + guard) of throughput', (t) => {
  const run = (guard: number) => {
    const clock = { t: 0 };
    const l = new MemoryLimiter([{ limit: 10, windowMs: 1000 }], [{ limit: 1e6, windowMs: 1000 }], () => clock.t);
    l.widen(guard);
    return simulate(l, clock, { gaps: [25], sendDelays: [0], reportDelays: [0] }, 60_000).filter((s) => s < 60_000);
  };
  const none = run(0);
  const guarded = run(50);
  t.is(maxInWindow(guarded, 1050), 10, 'the widened window holds');
  const cost = 1 - guarded.length / none.length;
  t.log(`guard 50 ms on 10/1000 ms: ${none.length} -> ${guarded.length} sent in 60 s, ${(cost * 100).toFixed(1)}% less`);
  t.true(Math.abs(cost - 50 / 1050) < 0.01, `cost ${cost}`);
  const clock = { t: 0 };
  const l = new MemoryLimiter([{ limit: 1, windowMs: 1000 }], [], () => clock.t);
  l.widen(50);
  l.widen(20); // replaces the guard, does not add to it
  l.sent(admitted(l.acquire(0)).ticket, 0);
  clock.t = 1000;
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 20, reason: 'requests' });
});
