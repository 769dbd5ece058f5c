import test from 'ava';
import { RateLimitError } from '../../src/core/errors.js';
import { LimiterFeedback } from '../../src/limits/feedback.js';
import type { Limiter } from '../../src/limits/types.js';

// What the executor tells the limiter after admission, and when it re-pumps the queue.

interface Log {
  calls: string[];
  refunds: number;
}

function limiter(log: Log, overrides: Partial<Limiter> = {}): Limiter {
  return {
    check: () => {},
    acquire: () => ({ admitted: true, ticket: 't' }),
    sent: (ticket, at) => void log.calls.push(`sent ${String(ticket)} ${at}`),
    holds: (ticket) => ticket !== 'plain',
    reconcile: (ticket, tokens) => void log.calls.push(`reconcile ${String(ticket)} ${tokens}`),
    pause: (ms) => void log.calls.push(`pause ${ms}`),
    observe: (limits, ticket) => void log.calls.push(`observe ${JSON.stringify(limits)} ${String(ticket)}`),
    close: () => Promise.resolve(),
    ...overrides,
  };
}

function feedback(overrides?: Partial<Limiter> | null): { fb: LimiterFeedback; log: Log } {
  const log: Log = { calls: [], refunds: 0 };
  const fb = new LimiterFeedback(overrides === null ? undefined : limiter(log, overrides), () => log.refunds++);
  return { fb, log };
}

test('sent(): a held ticket is reported and the queue re-pumped; a ticket that holds nothing, or none, is neither', (t) => {
  const { fb, log } = feedback();
  fb.sent('t1', 5);
  fb.sent('plain', 6);
  fb.sent(undefined, 7);
  t.deepEqual(log.calls, ['sent t1 5']);
  t.is(log.refunds, 1);
  t.true(fb.holds('t1'));
  t.false(fb.holds('plain'));
  t.false(fb.holds(undefined));
});

test('sent(): a limiter with no sent() or no holds() counts every ticket as held; an asynchronous report re-pumps nothing and never escapes', async (t) => {
  const bare = feedback({ sent: undefined, holds: undefined });
  t.true(bare.fb.holds('anything'));
  bare.fb.sent('t1', 5);
  t.is(bare.log.refunds, 1, 'the slot may have moved: re-pump');
  const shared = feedback({ sent: () => Promise.reject(new Error('store down')) });
  shared.fb.sent('t1', 5);
  t.is(shared.log.refunds, 0, 'a shared store re-pumps when it answers, not here');
  await new Promise((r) => setImmediate(r));
  const none = feedback(null);
  t.true(none.fb.holds('t1'));
  t.notThrows(() => none.fb.sent('t1', 5));
});

test("meta(): provider limits go to the limiter with the response's ticket; the usage is returned", (t) => {
  const { fb, log } = feedback();
  t.is(fb.meta({ usage: { tokens: 12 }, providerLimits: { remainingRequests: 3, resetRequestsMs: 100 } }, 't1'), 12);
  t.is(fb.meta({}, 't2'), undefined);
  t.deepEqual(log.calls, ['observe {"remainingRequests":3,"resetRequestsMs":100} t1']);
  t.is(feedback(null).fb.meta({ usage: { tokens: 3 }, providerLimits: { remainingRequests: 1 } }, 't1'), 3);
});

test('reconcile(): told the usage; a refund (less than the estimate) re-pumps, an equal or larger usage does not; no ticket or no limiter, nothing', async (t) => {
  const { fb, log } = feedback();
  fb.reconcile('t1', 3, 10);
  t.is(log.refunds, 1);
  fb.reconcile('t2', 10, 10);
  fb.reconcile('t3', 12, 10);
  t.is(log.refunds, 1);
  fb.reconcile(undefined, 1, 10);
  t.deepEqual(log.calls, ['reconcile t1 3', 'reconcile t2 10', 'reconcile t3 12']);
  const shared = feedback({ reconcile: () => Promise.reject(new Error('store down')) });
  shared.fb.reconcile('t1', 1, 10);
  t.is(shared.log.refunds, 0);
  await new Promise((r) => setImmediate(r));
  t.notThrows(() => feedback(null).fb.reconcile('t1', 1, 10));
});

test('failed(): only a RateLimitError with a positive retry-after pauses the limiter, for that long', (t) => {
  const { fb, log } = feedback();
  fb.failed(new RateLimitError('429', 500));
  fb.failed(new RateLimitError('429', 0));
  fb.failed(new RateLimitError('429'));
  fb.failed(Object.assign(new Error('not ours'), { retryAfterMs: 900 }));
  fb.failed('a string');
  t.deepEqual(log.calls, ['pause 500']);
  t.notThrows(() => feedback(null).fb.failed(new RateLimitError('429', 500)));
});
