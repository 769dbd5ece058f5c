import test from 'ava';
import { MemoryLimiter, SlidingWindow } from '../../src/index.js';
import { heapAfterGc } from '../helpers/measure.js';

// Edges of the sliding window and the in-memory limiter that mutation testing showed no test
// held: more live entries than the ring's first capacity, weighted (token) entries, a refund
// for an entry that already left, the exact window edge and the limit itself.

test('SlidingWindow: a request exactly at the limit fits an empty window; one over never does', (t) => {
  const w = new SlidingWindow(3, 1000);
  t.is(w.waitFor(3, 0), 0);
  t.is(w.waitFor(4, 0), Infinity);
});

test('SlidingWindow: more live entries than its first capacity keep their times (the ring grows)', (t) => {
  const w = new SlidingWindow(1000, 1000);
  for (let i = 0; i < 1000; i++) {
    t.is(w.waitFor(1, i * 0.5), 0);
    w.add(1, i * 0.5);
  }
  t.is(w.used(499.5), 1000);
  // Full: the first entry (t = 0) leaves at 1000, the 201st (t = 100) at 1100.
  t.is(w.waitFor(1, 600), 400);
  t.is(w.waitFor(201, 600), 500);
  t.is(w.used(1000), 999);
});

test('SlidingWindow: weighted entries: the wait is until enough of the oldest have left, not just the first', (t) => {
  const w = new SlidingWindow(10, 1000);
  w.add(5, 0);
  w.add(5, 100);
  t.is(w.waitFor(3, 200), 800, 'one 5 leaving frees enough');
  t.is(w.waitFor(7, 200), 900, 'both must leave for 7');
});

test('SlidingWindow: an entry leaves exactly windowMs after it was added; used() counts what is inside', (t) => {
  const w = new SlidingWindow(5, 100);
  w.add(2, 0);
  w.add(1, 50);
  t.is(w.used(99.999), 3);
  t.is(w.used(100), 1, 'the entry of t = 0 is out at t = 100');
  t.is(w.used(150), 0);
});

test('SlidingWindow: used() is exactly 0 once every entry has left, whatever the fractions', (t) => {
  const w = new SlidingWindow(10, 100);
  // Added and removed in this order, 0.1 + 0.7 + 0.2 leaves 5.6e-17 in floating point.
  w.add(0.1, 0);
  w.add(0.7, 1);
  w.add(0.2, 2);
  t.is(w.used(1000), 0);
});

test('SlidingWindow.adjust: a refund for an entry that already left the window changes nothing', (t) => {
  const w = new SlidingWindow(10, 100);
  const old = w.add(8, 0);
  const live = w.add(2, 150);
  t.is(w.used(150), 2);
  w.adjust(old, 0);
  t.is(w.used(150), 2, 'the departed entry is not refunded');
  w.adjust(live + 1, 7);
  t.is(w.used(150), 2, 'a sequence number not yet given changes nothing');
  w.adjust(live, 5);
  t.is(w.used(150), 5);
});

// Serial: it measures the process's memory.
test.serial('SlidingWindow: a million admissions through a small window keep memory flat (the ring grows only when full)', async (t) => {
  const w = new SlidingWindow(2, 1);
  // The ring lives in typed arrays: their memory is counted in arrayBuffers, not heapUsed.
  await heapAfterGc();
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 1_000_000; i++) {
    if (w.waitFor(1, i) === 0) w.add(1, i);
  }
  await heapAfterGc();
  const grown = process.memoryUsage().arrayBuffers - before;
  t.is(w.used(1_000_000 - 0.5), 1);
  // Two live entries at most: a ring that grew with every admission ever made would hold
  // 2^21 slots (32 MB) by now.
  t.true(grown < 4 * 1024 * 1024, `array buffers grew ${(grown / 1048576).toFixed(2)} MB`);
});

test('MemoryLimiter: a pause holds every admission for exactly its length; a shorter pause does not shorten it', (t) => {
  let now = 0;
  const l = new MemoryLimiter([{ limit: 100, windowMs: 1000 }], [], () => now);
  l.pause(300);
  l.pause(100);
  t.deepEqual(l.acquire(0, 0), { admitted: false, retryInMs: 300, reason: 'paused' });
  t.deepEqual(l.acquire(0, 299.5), { admitted: false, retryInMs: 0.5, reason: 'paused' });
  t.true(l.acquire(0, 300).admitted);
  now = 400;
  l.pause(0);
  l.pause(-5);
  l.pause(Number.NaN);
  t.true(l.acquire(0, 400).admitted, 'a pause of 0, negative or NaN does nothing');
});

test('MemoryLimiter: the reason names the limit that binds, and the wait is the longest of them', (t) => {
  // Each admission's send is reported at its admission instant, so its slot sits there.
  const admit = (lim: MemoryLimiter, tokens: number, at: number) => {
    const got = lim.acquire(tokens, at);
    t.true(got.admitted);
    if (got.admitted) lim.sent(got.ticket, at);
  };
  const l = new MemoryLimiter([{ limit: 1, windowMs: 100 }], [{ limit: 10, windowMs: 1000 }]);
  admit(l, 10, 0);
  t.deepEqual(l.acquire(1, 50), { admitted: false, retryInMs: 950, reason: 'tokens' });
  const r = new MemoryLimiter([{ limit: 1, windowMs: 1000 }], [{ limit: 10, windowMs: 100 }]);
  admit(r, 10, 0);
  t.deepEqual(r.acquire(1, 50), { admitted: false, retryInMs: 950, reason: 'requests' });
  // A zero-token call never waits on the token windows.
  const z = new MemoryLimiter([{ limit: 5, windowMs: 100 }], [{ limit: 10, windowMs: 1000 }]);
  t.true(z.acquire(10, 0).admitted);
  t.true(z.acquire(0, 1).admitted);
});

test('MemoryLimiter.reconcile: a refund frees tokens at once; a bad actual count or no ticket changes nothing', (t) => {
  const l = new MemoryLimiter([], [{ limit: 100, windowMs: 1000 }]);
  const a = l.acquire(90, 0);
  t.true(a.admitted);
  const ticket = (a as { ticket: unknown }).ticket;
  t.false(l.acquire(20, 1).admitted);
  l.reconcile(ticket, Number.NaN);
  l.reconcile(ticket, -1);
  l.reconcile(undefined, 0);
  t.false(l.acquire(20, 2).admitted);
  l.reconcile(ticket, 10);
  t.true(l.acquire(20, 3).admitted);
  t.false(l.acquire(71, 4).admitted, '10 + 20 used: 70 left');
  t.true(l.acquire(70, 5).admitted);
});

test('MemoryLimiter.check: an estimate over a whole token window says which window, in its message and context', (t) => {
  const l = new MemoryLimiter([], [{ limit: 1000, windowMs: 60_000 }]);
  t.notThrows(() => l.check(1000));
  const err = t.throws(() => l.check(5000), { code: 'E_RATE_LIMITED' });
  t.regex(err!.message, /5000 tokens exceed the token limit of 1000 per 60000 ms/);
  t.deepEqual((err as unknown as { context: unknown }).context, { tokens: 5000, limit: 1000, windowMs: 60_000 });
  t.false((err as unknown as { retryable: boolean }).retryable);
});
