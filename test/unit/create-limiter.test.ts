import test from 'ava';
import { createLimiter, normalizeWindows } from '../../src/limits/create-limiter.js';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';
import type { Acquisition, Limiter } from '../../src/limits/types.js';

// The limiter each `limits` configuration makes.

const admits = (l: Limiter, tokens: number): boolean => (l.acquire(tokens) as Acquisition).admitted;

test('no limits, or limits with no window (even with a Redis store): a memory limiter that admits everything and holds no ticket', async (t) => {
  const none = [createLimiter(undefined), createLimiter({}), createLimiter({ store: { kind: 'redis', url: 'redis://127.0.0.1:1' } })];
  for (const l of none) {
    t.true(l instanceof MemoryLimiter);
    t.notThrows(() => l.check(1e12));
    for (let i = 0; i < 1000; i++) if (!admits(l, 1e9)) return t.fail(`refused call ${i}`);
    const a = l.acquire(1) as Acquisition;
    t.false(a.admitted && l.holds!(a.ticket), 'no window: no send tracking');
    await l.close();
  }
});

test('a request window alone: its limit binds, any token estimate fits', (t) => {
  const l = createLimiter({ requests: { limit: 2, windowMs: 60_000 } });
  t.true(l instanceof MemoryLimiter);
  t.notThrows(() => l.check(1e12), 'no token window to outgrow');
  t.true(admits(l, 1e9));
  t.true(admits(l, 1e9));
  t.like(l.acquire(0), { admitted: false, reason: 'requests' });
});

test('a token window alone: its limit binds, and an estimate over it can never fit', (t) => {
  const l = createLimiter({ tokens: { limit: 100, windowMs: 60_000 } });
  t.true(admits(l, 60));
  t.like(l.acquire(60), { admitted: false, reason: 'tokens' });
  for (let i = 0; i < 50; i++) if (!(l.acquire(0) as Acquisition).admitted) return t.fail('no request limit was set');
  t.throws(() => l.check(101), { code: 'E_RATE_LIMITED' });
});

test('normalizeWindows: one window or a list; a missing side is an empty list', (t) => {
  t.deepEqual(normalizeWindows({ requests: [{ limit: 1, windowMs: 10 }, { limit: 5, windowMs: 100 }] }), { requests: [{ limit: 1, windowMs: 10 }, { limit: 5, windowMs: 100 }], tokens: [] });
  t.deepEqual(normalizeWindows({ tokens: { limit: 1, windowMs: 10 } }), { requests: [], tokens: [{ limit: 1, windowMs: 10 }] });
  t.deepEqual(normalizeWindows({}), { requests: [], tokens: [] });
});

test('a Redis store with a window makes a Redis limiter; a Limiter object is used as is', async (t) => {
  const redis = createLimiter({ requests: { limit: 1, windowMs: 1000 }, store: { kind: 'redis', url: 'redis://127.0.0.1:1' } });
  t.true(redis instanceof RedisLimiter);
  await redis.close();
  const mine = new MemoryLimiter([{ limit: 3, windowMs: 10 }], []);
  t.is(createLimiter(mine as never), mine);
});
