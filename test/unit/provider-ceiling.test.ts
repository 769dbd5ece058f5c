import test from 'ava';
import { ProviderCeiling, type ProviderSlot } from '../../src/limits/provider-ceiling.js';

// What a provider's headers say, applied on their own, with exact figures.

/** An admission counted by `p` (as the memory limiter's ticket would be). */
function admit(p: ProviderCeiling, charged: number, at: number): ProviderSlot {
  const slot: ProviderSlot = { reqSeq: p.admittedCount, tokSeq: p.admittedTokens, charged, at, sentAt: undefined, providerHeld: false };
  p.admitted(slot);
  return slot;
}

function send(p: ProviderCeiling, slot: ProviderSlot, t: number): void {
  slot.sentAt = t;
  p.sent(slot, t);
}

test('nothing is active until a provider speaks; admissions are counted all the same', (t) => {
  const p = new ProviderCeiling();
  t.false(p.active);
  t.is(p.admittedPlain(0), 0);
  t.is(p.admittedPlain(0), 1);
  admit(p, 7, 0);
  t.is(p.admittedCount, 3);
  t.is(p.admittedTokens, 7);
  t.false(p.active);
  t.is(p.wait(1_000_000, 0), 0);
  p.observe({ remainingTokens: 5 }, 0, undefined);
  p.observe({ resetTokensMs: 5 }, 0, undefined);
  p.observe({ remainingRequests: 5 }, 0, undefined);
  t.false(p.active, 'a remaining without its reset (or the reverse) says nothing');
});

test("request ceiling: the header's remaining less ours admitted after its response and ours not yet sent; gone at the reset", (t) => {
  const p = new ProviderCeiling();
  const a = admit(p, 0, 0);
  const b = admit(p, 0, 0);
  admit(p, 0, 0);
  send(p, b, 10);
  // Came with a's response: b and c were admitted after it; a and c are unsent.
  p.observe({ remainingRequests: 5, resetRequestsMs: 1000 }, 100, a);
  t.true(p.active);
  t.is(p.wait(0, 100), 0, '5 - 2 after - 2 pending = 1 left');
  admit(p, 0, 100);
  t.is(p.wait(0, 150), 950);
  t.is(p.wait(0, 1099.5), 0.5);
  t.is(p.wait(0, 1100), 0, 'at the reset the ceiling is gone');
  admit(p, 0, 1100);
  t.is(p.wait(0, 1100), 0, 'and stays gone');
});

test('request ceiling from a plain ticket: those admitted after it count; from no ticket: only the unsent', (t) => {
  const p = new ProviderCeiling();
  const first = p.admittedPlain(0);
  p.admittedPlain(0);
  p.admittedPlain(0);
  p.observe({ remainingRequests: 3, resetRequestsMs: 1000 }, 0, first);
  t.is(p.wait(0, 0), 0, '3 - 2 after = 1 left');
  admit(p, 0, 0);
  t.is(p.wait(0, 0), 1000);
  const q = new ProviderCeiling();
  q.admittedPlain(0);
  q.admittedPlain(0);
  q.observe({ remainingRequests: 1, resetRequestsMs: 1000 }, 0, undefined);
  t.is(q.wait(0, 0), 0);
});

test("token ceiling: remaining less our tokens admitted after the response and not yet sent; a request of 0 tokens never waits on it", (t) => {
  const p = new ProviderCeiling();
  const a = admit(p, 10, 0);
  admit(p, 20, 0);
  send(p, a, 5);
  // 30 admitted, 10 sent: 20 after a's response, 20 unsent.
  p.observe({ remainingTokens: 100, resetTokensMs: 500 }, 50, a);
  t.is(p.wait(60, 50), 0);
  t.is(p.wait(61, 50), 500);
  t.is(p.wait(0, 50), 0);
  admit(p, 10, 60);
  t.is(p.wait(50, 100), 0);
  t.is(p.wait(51, 100), 450);
  admit(p, 0, 100);
  t.is(p.wait(51, 100), 450, 'a request with no tokens takes none');
  t.is(p.wait(51, 550), 0, 'gone at the reset');
  t.is(p.wait(1000, 551), 0);
});

test('token ceiling from a plain ticket or none: nothing is taken off for after the response', (t) => {
  const p = new ProviderCeiling();
  const plain = p.admittedPlain(0);
  admit(p, 0, 0);
  p.observe({ remainingTokens: 100, resetTokensMs: 500 }, 0, plain);
  t.is(p.wait(100, 0), 0);
  t.is(p.wait(101, 0), 500);
});

test('learned window: seeded with what the provider says is used, as long as its reset plus the round trip, over our send instants', (t) => {
  const p = new ProviderCeiling();
  const a = admit(p, 0, 0);
  send(p, a, 50);
  // Announced at 100 with a's response: round trip 50, span 1050; 3 - 1 remaining = 2 used.
  p.observe({ limitRequests: 3, remainingRequests: 1, resetRequestsMs: 1000 }, 100, a);
  t.is(p.wait(0, 100), 0);
  const b = admit(p, 0, 100);
  t.true(b.providerHeld);
  t.is(p.wait(0, 100), 1050, 'the ceiling (1 left) is spent, and the window is full: 2 seeded, 1 held');
  send(p, b, 200);
  t.is(p.wait(0, 1100), 50, 'the learned window: two seeded at 100, span 1050');
  t.is(p.wait(0, 1150), 0);
});

test('learned window: an unsent slot measures its round trip from its admission; a limit below 1 is not learned; the span only grows', (t) => {
  const p = new ProviderCeiling();
  const a = admit(p, 0, 0);
  p.observe({ limitRequests: 0, resetRequestsMs: 1000 }, 100, a);
  t.false(p.active, 'a limit of 0 teaches nothing');
  p.observe({ limitRequests: 1, remainingRequests: 1, resetRequestsMs: 1000 }, 100, a);
  t.true(p.active);
  // Span 1000 + 100 (a unsent: from its admission at 0). Seeded with 0 + 1 pending = 1.
  t.is(p.wait(0, 100), 1100);
  p.observe({ limitRequests: 1, resetRequestsMs: 2000 }, 100, undefined);
  t.is(p.wait(0, 100), 2000, 'a longer span replaces it');
  p.observe({ limitRequests: 1, resetRequestsMs: 10 }, 100, undefined);
  t.is(p.wait(0, 100), 2000, 'a shorter one does not');
});

test('learned window: a send admitted before it was learned is added, one admitted after is placed from its hold', (t) => {
  const p = new ProviderCeiling();
  const early = admit(p, 0, 0);
  send(p, early, 0);
  p.observe({ limitRequests: 3, remainingRequests: 3, resetRequestsMs: 1000 }, 0, early);
  const before = admit(p, 0, 0);
  before.providerHeld = false;
  const after = admit(p, 0, 0);
  t.true(after.providerHeld);
  send(p, before, 10);
  // before added at 10, after still held, plus before's own hold never placed: 3 in the window.
  t.is(p.wait(0, 10), 1000);
});

test('token ceiling: tokens admitted after a later slot are measured from that slot; a 0-token request passes even an overdrawn ceiling', (t) => {
  const p = new ProviderCeiling();
  admit(p, 10, 0);
  const b = admit(p, 20, 0);
  admit(p, 5, 0);
  // b's response: 5 tokens admitted after it, 35 unsent.
  p.observe({ remainingTokens: 100, resetTokensMs: 500 }, 10, b);
  t.is(p.wait(60, 10), 0);
  t.is(p.wait(61, 10), 500);
  p.observe({ remainingTokens: 10, resetTokensMs: 500 }, 10, b);
  t.is(p.wait(1, 10), 500, 'overdrawn: 10 - 5 - 35');
  t.is(p.wait(0, 10), 0);
});

test('a limit announced without its reset teaches nothing; a request ceiling alone takes token-charged admissions in stride', (t) => {
  const p = new ProviderCeiling();
  p.observe({ limitRequests: 3 }, 0, undefined);
  t.false(p.active);
  p.observe({ remainingRequests: 2, resetRequestsMs: 1000 }, 0, undefined);
  t.notThrows(() => admit(p, 10, 0));
  t.notThrows(() => admit(p, 0, 0));
  t.is(p.wait(0, 0), 1000);
});

test('learned window: seeded with ours admitted after the response, too, and outlasting the ceiling', (t) => {
  const p = new ProviderCeiling();
  const a = admit(p, 0, 0);
  send(p, a, 0);
  const b = admit(p, 0, 0);
  send(p, b, 0);
  // a's response at 100 (round trip 100) says 2 of 2 remain; b was admitted after it: seed 1,
  // span 1100. The ceiling (2 - 1 = 1 left) ends at 1100, the seed leaves at 1200.
  p.observe({ limitRequests: 2, remainingRequests: 2, resetRequestsMs: 1000 }, 100, a);
  t.is(p.wait(0, 1150), 0);
  admit(p, 0, 1150);
  t.is(p.wait(0, 1150), 50, 'the seed and the new hold fill the window until the seed leaves');
});

test("learned window from a plain ticket: its round trip is measured from that admission's instant, for the last 1024 of them", (t) => {
  const p = new ProviderCeiling();
  const first = p.admittedPlain(40);
  // Learned at 100 from the first admission's response: span 1000 + (100 - 40).
  p.observe({ limitRequests: 1, remainingRequests: 0, resetRequestsMs: 1000 }, 100, first);
  t.is(p.wait(0, 100), 1060, 'seeded with the one used, as if sent at 100');
  const q = new ProviderCeiling();
  const old = q.admittedPlain(0);
  for (let i = 0; i < 1024; i++) q.admittedPlain(50);
  q.observe({ limitRequests: 2000, remainingRequests: 2000, resetRequestsMs: 1000 }, 100, old);
  const r = new ProviderCeiling();
  const kept = r.admittedPlain(0);
  for (let i = 0; i < 1023; i++) r.admittedPlain(50);
  r.observe({ limitRequests: 2000, remainingRequests: 2000, resetRequestsMs: 1000 }, 100, kept);
  // Seeded with those admitted after the response (1024 in q, 1023 in r) as if sent at 100;
  // filling the rest of the 2000 shows each window's span.
  for (let i = 0; i < 976; i++) admit(q, 0, 100);
  for (let i = 0; i < 977; i++) admit(r, 0, 100);
  t.is(q.wait(0, 100), 1000, 'older than the last 1024: no round trip is known');
  t.is(r.wait(0, 100), 1100, 'the 1024th from the end: its instant is still kept');
});

test('widen adds a guard band to the learned window, before or after it is learned, and keeps it as the span grows', (t) => {
  const p = new ProviderCeiling();
  p.widen(30);
  p.observe({ limitRequests: 1, remainingRequests: 0, resetRequestsMs: 1000 }, 0, undefined);
  t.is(p.wait(0, 0), 1030);
  p.observe({ limitRequests: 1, resetRequestsMs: 1500 }, 0, undefined);
  t.is(p.wait(0, 0), 1530);
  p.widen(5);
  t.is(p.wait(0, 0), 1505, 'a new guard replaces the old one');
  p.widen(0);
  t.is(p.wait(0, 0), 1500);
});
