import test from 'ava';
import fc from 'fast-check';
import { SlidingWindow } from '../../src/limits/sliding-window.js';

// The exact rolling window against a plain model (an array, no ring), and the promise itself:
// admitted only when waitFor says 0, no window of windowMs ever holds more than the limit.

/** The window's documented behaviour, written plainly. */
class Model {
  entries: { seq: number; at: number; amount: number }[] = [];
  held = 0;
  last = -Infinity;
  seq = 0;
  constructor(
    public limit: number,
    public windowMs: number,
  ) {}
  prune(t: number): void {
    while (this.entries.length > 0 && this.entries[0]!.at + this.windowMs <= t) this.entries.shift();
  }
  used(t: number): number {
    this.prune(t);
    return this.entries.reduce((s, e) => s + e.amount, 0) + this.held;
  }
  waitFor(amount: number, t: number): number {
    if (amount > this.limit) return Infinity;
    this.prune(t);
    let over = this.entries.reduce((s, e) => s + e.amount, 0) + this.held + amount - this.limit;
    if (over <= 0) return 0;
    for (const e of this.entries) {
      over -= e.amount;
      if (over <= 0) return e.at + this.windowMs - t;
    }
    return this.windowMs;
  }
  add(amount: number, t: number): number {
    const at = Math.max(t, this.last);
    this.last = at;
    this.entries.push({ seq: this.seq, at, amount });
    return this.seq++;
  }
  place(amount: number, t: number): number {
    this.held = Math.max(0, this.held - amount);
    return this.add(amount, t);
  }
  adjust(seq: number, amount: number): void {
    const e = this.entries.find((x) => x.seq === seq);
    if (e) e.amount = amount;
  }
}

type Op =
  | { op: 'add' | 'hold' | 'place'; amount: number; dt: number }
  | { op: 'adjust'; pick: number; amount: number }
  | { op: 'adjustHeld'; from: number; to: number }
  | { op: 'used' | 'waitFor'; amount: number; dt: number };

const amount = fc.integer({ min: 1, max: 4 });
const dt = fc.integer({ min: -20, max: 400 });
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constantFrom('add' as const, 'hold' as const, 'place' as const), amount, dt }),
    fc.record({ op: fc.constant('adjust' as const), pick: fc.nat(), amount: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ op: fc.constant('adjustHeld' as const), from: amount, to: fc.integer({ min: 0, max: 6 }) }),
    fc.record({ op: fc.constantFrom('used' as const, 'waitFor' as const), amount, dt }),
  ),
  { maxLength: 300 },
);

test('agrees with a plain model on every operation, through ring growth and out-of-order reports', (t) => {
  const run = fc.check(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 50, max: 1000 }), ops, (limit, windowMs, list: Op[]) => {
      // A small initial ring: growing it is part of what is checked.
      const w = new SlidingWindow(limit, windowMs, 1);
      const m = new Model(limit, windowMs);
      const seqs: number[] = [];
      let now = 1000;
      for (const o of list) {
        if ('dt' in o) now += o.dt;
        switch (o.op) {
          case 'add':
            if (w.add(o.amount, now) !== m.add(o.amount, now)) return false;
            seqs.push(m.seq - 1);
            break;
          case 'hold':
            w.hold(o.amount);
            m.held += o.amount;
            break;
          case 'place':
            if (w.place(o.amount, now) !== m.place(o.amount, now)) return false;
            seqs.push(m.seq - 1);
            break;
          case 'adjust': {
            if (seqs.length === 0) break;
            const seq = seqs[o.pick % seqs.length]!;
            w.adjust(seq, o.amount);
            m.adjust(seq, o.amount);
            break;
          }
          case 'adjustHeld':
            w.adjustHeld(o.from, o.to);
            m.held = Math.max(0, m.held + o.to - o.from);
            break;
          case 'used':
            if (w.used(now) !== m.used(now)) return false;
            break;
          case 'waitFor':
            if (w.waitFor(o.amount, now) !== m.waitFor(o.amount, now)) return false;
            break;
        }
        if (w.held !== m.held) return false;
      }
      return w.used(now) === m.used(now);
    }),
    { numRuns: 400 },
  );
  // Every generated case held (the report names the smallest failing one otherwise).
  t.false(run.failed, fc.defaultReportMessage(run));
  t.is(run.numRuns, 400);
});

test('never more than the limit in any window: each unit admitted only when waitFor says 0, at the instant it names', (t) => {
  const run = fc.check(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 10, max: 500 }), fc.array(fc.record({ amount: fc.integer({ min: 1, max: 3 }), gap: fc.integer({ min: 0, max: 50 }) }), { maxLength: 200 }), (limit, windowMs, offers) => {
      const w = new SlidingWindow(limit, windowMs, 1);
      const admitted: { at: number; amount: number }[] = [];
      let now = 0;
      for (const { amount: a, gap } of offers) {
        now += gap;
        const a2 = Math.min(a, limit);
        const wait = w.waitFor(a2, now);
        if (wait > 0) now += wait;
        if (w.waitFor(a2, now) !== 0) return false;
        w.add(a2, now);
        admitted.push({ at: now, amount: a2 });
      }
      // Every window [x, x + windowMs) that starts at an admission.
      return admitted.every((s) => admitted.filter((o) => o.at >= s.at && o.at < s.at + windowMs).reduce((n, o) => n + o.amount, 0) <= limit);
    }),
    { numRuns: 300 },
  );
  // Every generated case held (the report names the smallest failing one otherwise).
  t.false(run.failed, fc.defaultReportMessage(run));
  t.is(run.numRuns, 300);
});

test('a held unit counts in every window and names a whole window as its wait, until it is placed', (t) => {
  const w = new SlidingWindow(2, 1000);
  w.hold(1);
  w.hold(1);
  t.is(w.held, 2);
  t.is(w.used(1e9), 2, 'held units never expire');
  t.is(w.waitFor(1, 0), 1000);
  t.is(w.waitFor(3, 0), Infinity, 'more than the limit never fits');
  w.place(1, 500);
  t.is(w.held, 1);
  t.is(w.waitFor(1, 600), 900, 'room comes when the placed unit leaves the window');
  w.place(1, 400);
  t.is(w.held, 0);
  // Placed out of order: written at the latest time already there, never earlier.
  t.is(w.waitFor(1, 600), 900);
  t.is(w.waitFor(2, 600), 900, 'the second entry counts from 500 too, not from 400');
  t.is(w.used(1499.999), 2);
  t.is(w.used(1500), 0);
});

test('adjust() changes a live entry and is a no-op once it left the window', (t) => {
  const w = new SlidingWindow(10, 100);
  const a = w.add(4, 0);
  const b = w.add(3, 50);
  w.adjust(a, 1);
  t.is(w.used(60), 4);
  t.is(w.used(120), 3, 'a left the window');
  w.adjust(a, 9);
  t.is(w.used(120), 3, 'adjusting what left changes nothing');
  w.adjust(b, 0);
  t.is(w.used(120), 0);
  w.adjust(b + 5, 7);
  t.is(w.used(120), 0, 'a sequence number never written changes nothing');
});
