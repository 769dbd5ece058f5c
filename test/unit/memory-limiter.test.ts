import test from 'ava';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import type { Acquisition } from '../../src/limits/types.js';

// The in-process limiter on its own injectable clock: every figure is exact.

function at(start = 1000): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v) };
}

const admitted = (a: Acquisition): unknown => {
  if (!a.admitted) throw new Error(`refused: ${a.reason} ${a.retryInMs}`);
  return a.ticket;
};

test('with no window, tickets are plain numbers that hold nothing; a pause holds them until its last instant, exactly', (t) => {
  const c = at();
  const l = new MemoryLimiter([], [], c.now);
  const first = admitted(l.acquire(0));
  t.is(typeof first, 'number');
  t.false(l.holds(first));
  l.pause(100);
  c.set(1030);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 70, reason: 'paused' });
  c.set(1100);
  const after = admitted(l.acquire(0));
  t.is(typeof after, 'number', 'at the instant the pause ends: the plain path again');
  t.false(l.holds(after));
});

test('pause(): zero, negative or NaN does nothing; a shorter pause never shortens a longer one', (t) => {
  const c = at();
  const l = new MemoryLimiter([], [], c.now);
  for (const ms of [0, -5, Number.NaN]) l.pause(ms);
  t.true(l.acquire(0).admitted);
  l.pause(200);
  l.pause(50);
  c.set(1100);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 100, reason: 'paused' });
});

test('a window ticket holds its slot until sent; holds() says which tickets wait for a report', (t) => {
  const c = at();
  const l = new MemoryLimiter([{ limit: 1, windowMs: 1000 }], [], c.now);
  const ticket = admitted(l.acquire(0));
  t.true(l.holds(ticket));
  t.false(l.holds(7));
  t.false(l.holds('x'));
  c.set(5000);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1000, reason: 'requests' }, 'held: counts whatever the time');
  l.sent(ticket, 5200);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1200, reason: 'requests' }, 'placed at its send instant');
  t.false(l.holds(ticket), 'placed: nothing more to report');
  l.sent(ticket, 5900);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1200, reason: 'requests' }, 'a second report moves nothing');
});

test('the longest wait wins and names its limit; a request window full means wait, however roomy the token window', (t) => {
  const c = at();
  const l = new MemoryLimiter([{ limit: 1, windowMs: 500 }], [{ limit: 100, windowMs: 300 }], c.now);
  l.sent(admitted(l.acquire(10)), 1000);
  t.deepEqual(l.acquire(10), { admitted: false, retryInMs: 500, reason: 'requests' });
  const m = new MemoryLimiter([{ limit: 5, windowMs: 500 }], [{ limit: 10, windowMs: 800 }], c.now);
  m.sent(admitted(m.acquire(10)), 1000);
  t.deepEqual(m.acquire(10), { admitted: false, retryInMs: 800, reason: 'tokens' });
  // Equal waits: the request window, looked at first, is named.
  const e = new MemoryLimiter([{ limit: 1, windowMs: 600 }], [{ limit: 10, windowMs: 600 }], c.now);
  e.sent(admitted(e.acquire(10)), 1000);
  t.deepEqual(e.acquire(10), { admitted: false, retryInMs: 600, reason: 'requests' });
});

test('a request of 0 tokens never waits on a token window, even one charged over its limit', (t) => {
  const c = at();
  const l = new MemoryLimiter([], [{ limit: 10, windowMs: 1000 }], c.now);
  const ticket = admitted(l.acquire(10));
  l.sent(ticket, 1000);
  l.reconcile(ticket, 25);
  t.false(l.acquire(5).admitted);
  t.true(l.acquire(0).admitted);
});

test('reconcile(): before the send it changes the held amount, after it the placed one; bad amounts and foreign tickets change nothing', (t) => {
  const c = at();
  const l = new MemoryLimiter([], [{ limit: 10, windowMs: 1000 }], c.now);
  const held = admitted(l.acquire(8));
  t.false(l.acquire(5).admitted);
  l.reconcile(held, 2);
  t.true(l.acquire(5).admitted, 'the held estimate became 2: 2 + 5 fit');
  const m = new MemoryLimiter([], [{ limit: 10, windowMs: 1000 }], c.now);
  const placed = admitted(m.acquire(8));
  m.sent(placed, 1000);
  for (const bad of [Number.NaN, -1, Infinity]) m.reconcile(placed, bad);
  m.reconcile('not a ticket', 0);
  m.reconcile(3, 0);
  t.deepEqual(m.acquire(5), { admitted: false, retryInMs: 1000, reason: 'tokens' }, 'still 8 charged');
  m.reconcile(placed, 0);
  t.true(m.acquire(10).admitted, 'placed, then refunded to nothing');
  // A second reconcile after the send adjusts the placed entry again, not the held amount.
  const n = new MemoryLimiter([], [{ limit: 10, windowMs: 1000 }], c.now);
  const a = admitted(n.acquire(4));
  const b = admitted(n.acquire(4));
  n.sent(a, 1000);
  n.reconcile(a, 1);
  t.true(n.acquire(5).admitted, '1 placed + 4 held + 5');
  void b;
});

test('widen(): adds a guard band to every window, replacing the last; NaN, negative or 0 removes it', (t) => {
  const c = at();
  const l = new MemoryLimiter([{ limit: 1, windowMs: 1000 }], [{ limit: 10, windowMs: 2000 }], c.now);
  l.sent(admitted(l.acquire(10)), 1000);
  l.widen(50);
  t.deepEqual(l.acquire(1), { admitted: false, retryInMs: 2050, reason: 'tokens' });
  l.widen(20);
  t.deepEqual(l.acquire(1), { admitted: false, retryInMs: 2020, reason: 'tokens' });
  for (const bad of [Number.NaN, -10, 0]) {
    l.widen(50);
    l.widen(bad);
    t.deepEqual(l.acquire(1), { admitted: false, retryInMs: 2000, reason: 'tokens' }, String(bad));
  }
  c.set(2000);
  l.widen(30);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 30, reason: 'requests' }, 'the request window too');
});

test("observe(): with a plain ticket, the provider's remaining is reduced by the requests admitted after it; a foreign ticket reduces nothing", (t) => {
  const c = at();
  const l = new MemoryLimiter([], [], c.now);
  const first = admitted(l.acquire(0));
  admitted(l.acquire(0));
  admitted(l.acquire(0));
  // The header came with the first response: two of ours were admitted after it.
  l.observe({ remainingRequests: 3, resetRequestsMs: 1000 }, first);
  t.true(l.acquire(0).admitted);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1000, reason: 'paused' });
  const m = new MemoryLimiter([], [], c.now);
  for (let i = 0; i < 3; i++) admitted(m.acquire(0));
  m.observe({ remainingRequests: 2, resetRequestsMs: 1000, remainingTokens: 10, resetTokensMs: 1000 }, 'foreign');
  t.true(m.acquire(0).admitted);
  t.deepEqual(m.acquire(20), { admitted: false, retryInMs: 1000, reason: 'paused' }, 'the token ceiling holds too');
  t.true(m.acquire(0).admitted);
  t.false(m.acquire(0).admitted);
});

test('a ticket admitted before the provider announced its limit is added to the learned window when sent, not placed from a hold it never had', (t) => {
  const c = at();
  const l = new MemoryLimiter([{ limit: 100, windowMs: 1000 }], [], c.now);
  const early = admitted(l.acquire(0));
  // Unsent when the header arrives: the learned window (2 per 1000 ms) is seeded with it.
  l.observe({ limitRequests: 2, remainingRequests: 2, resetRequestsMs: 1000 }, early);
  admitted(l.acquire(0));
  c.set(1300);
  l.sent(early, 1300);
  // Seeded at 1000, early added at 1300, the second still held: 3 in a window of 2.
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1000, reason: 'paused' });
});
