import test from 'ava';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import { createLimiter } from '../../src/limits/create-limiter.js';
import type { Acquisition, Ticket } from '../../src/limits/types.js';

function ticket(a: Acquisition): Ticket {
  if (!a.admitted) throw new Error(`refused: ${a.reason} for ${a.retryInMs} ms`);
  return a.ticket;
}

test('with no limits configured there is still a limiter, and it admits everything until a provider speaks', (t) => {
  const l = createLimiter(undefined);
  if (!(l instanceof MemoryLimiter)) return t.fail('a memory limiter');
  for (let i = 0; i < 10_000; i++) {
    const a = l.acquire(100, i / 10);
    t.true(a.admitted);
    if (a.admitted) l.sent(a.ticket, i / 10);
  }
});

test('no limits: a 429 retry-after pauses every admission, to the fraction of a millisecond', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([], [], () => clock.t);
  l.pause(1234.567);
  t.deepEqual(l.acquire(0), { admitted: false, retryInMs: 1234.567, reason: 'paused' });
  clock.t = 1234.566;
  t.false(l.acquire(0).admitted);
  clock.t = 1234.567;
  t.true(l.acquire(0).admitted);
});

test('remaining is reduced by our requests the header cannot have counted: admitted after its request, or not sent yet', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([], [], () => clock.t);
  const a = ticket(l.acquire(0));
  l.sent(a, 0);
  l.observe({ remainingRequests: 100, resetRequestsMs: 100_000 }, a); // the provider speaks: full tickets from here on
  const b = ticket(l.acquire(0));
  l.sent(b, 1);
  const c = ticket(l.acquire(0));
  l.sent(c, 2);
  const d = ticket(l.acquire(0)); // admitted, not sent yet
  clock.t = 5;
  // b's response: 3 left when b arrived. c and d were admitted after b (d, unsent, is counted
  // twice: the subtraction errs on the safe side): nothing is left until the reset.
  l.observe({ remainingRequests: 3, resetRequestsMs: 1000 }, b);
  t.like(l.acquire(0), { admitted: false, reason: 'paused', retryInMs: 1000 });
  l.sent(d, 6);
  l.observe({ remainingRequests: 3, resetRequestsMs: 1000 }, c); // c's: d was admitted after it, and is sent now
  t.true(l.acquire(0).admitted);
  t.true(l.acquire(0).admitted);
  t.false(l.acquire(0).admitted);
  clock.t = 1005;
  t.true(l.acquire(0).admitted, 'the reset ends the ceiling');
  // Control: the same header read without its ticket subtracts only what is unsent.
  const m = new MemoryLimiter([], [], () => 0);
  m.observe({ remainingRequests: 100, resetRequestsMs: 100_000 });
  for (let i = 0; i < 3; i++) m.sent(ticket(m.acquire(0)), 0);
  m.observe({ remainingRequests: 3, resetRequestsMs: 1000 });
  t.is([0, 1, 2, 3].filter(() => m.acquire(0).admitted).length, 3);
});

test('an announced limit becomes a rolling window over our send instants, as long as the reset plus the round trip', (t) => {
  const clock = { t: 0 };
  const l = new MemoryLimiter([], [], () => clock.t);
  const a = ticket(l.acquire(0)); // before the provider spoke: a bare sequence number
  l.sent(a, 0);
  clock.t = 10; // a's response: the provider allows 5 per window, 4 left, resetting in 2000 ms
  l.observe({ limitRequests: 5, remainingRequests: 4, resetRequestsMs: 2000 }, a);
  const b = ticket(l.acquire(0));
  l.sent(b, 10);
  for (let i = 0; i < 3; i++) l.sent(ticket(l.acquire(0)), 10);
  t.false(l.acquire(0).admitted, 'a (seeded at 10) and four more: five in the window');
  clock.t = 30; // b's response, 20 ms after it left: the window learned is 1990 + 20 = 2010 ms
  l.observe({ limitRequests: 5, remainingRequests: 0, resetRequestsMs: 1990 }, b);
  clock.t = 2019.99;
  t.false(l.acquire(0).admitted);
  clock.t = 2020; // the ceiling lapsed (30 + 1990) and the five sent at 10 left the 2010 ms window
  for (let i = 0; i < 5; i++) l.sent(ticket(l.acquire(0)), 2020);
  t.like(l.acquire(0), { admitted: false, retryInMs: 2010 }, 'no new header: the learned window alone holds');
});
