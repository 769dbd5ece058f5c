import test from 'ava';
import { ConsecutiveFailures, FailureRatio } from '../../src/index.js';

// The circuit breaker's trip policies, driven directly with exact instants (ms on any clock).

test('ConsecutiveFailures trips at exactly its threshold; a success or reset() starts the count again', (t) => {
  const p = new ConsecutiveFailures(3);
  t.is(p.threshold, 3);
  t.deepEqual([p.failure(), p.failure(), p.failure(), p.failure()], [false, false, true, true]);
  p.success();
  t.deepEqual([p.failure(), p.failure(), p.failure()], [false, false, true]);
  p.reset();
  t.deepEqual([p.failure(), p.failure(), p.failure()], [false, false, true]);
  t.true(new ConsecutiveFailures(1).failure());
});

test('FailureRatio trips at exactly minVolume outcomes and exactly the ratio, counting successes', (t) => {
  const p = new FailureRatio({ ratio: 0.5, windowMs: 1000, minVolume: 4, buckets: 10 });
  t.like(p, { ratio: 0.5, windowMs: 1000, minVolume: 4 });
  t.false(p.failure(0));
  t.false(p.failure(1));
  p.success(2);
  t.true(p.failure(3), '3 of 4 failed: the volume and the ratio are reached');
  const q = new FailureRatio({ ratio: 0.5, windowMs: 1000, minVolume: 4, buckets: 10 });
  q.success(0);
  q.success(0);
  t.false(q.failure(0), 'volume 3 < 4');
  t.true(q.failure(0), '2 of 4: the ratio exactly');
  const r = new FailureRatio({ ratio: 0.5, windowMs: 1000, minVolume: 4, buckets: 10 });
  r.success(0);
  r.success(0);
  r.success(0);
  t.false(r.failure(0), '1 of 4 is under the ratio');
  t.like(new FailureRatio({ ratio: 1 }), { windowMs: 10_000, minVolume: 10 });
});

test('FailureRatio: outcomes leave the window a slice at a time; a reused slice starts empty; reset() forgets all', (t) => {
  // 10 slices of 100 ms. Three failures in slice 0 (t = 0..99).
  const p = new FailureRatio({ ratio: 1, windowMs: 1000, minVolume: 4, buckets: 10 });
  for (let i = 0; i < 3; i++) p.failure(50);
  t.true(p.failure(999), 'slice 9: slice 0 is still in the window');
  const q = new FailureRatio({ ratio: 1, windowMs: 1000, minVolume: 4, buckets: 10 });
  for (let i = 0; i < 3; i++) q.failure(50);
  t.false(q.failure(1000), 'slice 10: slice 0 has left the window');
  // Slice 10 reuses slice 0's place in the ring: the old three are gone, not added.
  t.false(q.failure(1001));
  t.false(q.failure(1002));
  t.true(q.failure(1003), 'four failures of slice 10');
  // Slice 11 sits in slice 1's place; slice 0's place still holds slice 0's three, outside the window.
  const w = new FailureRatio({ ratio: 1, windowMs: 1000, minVolume: 2, buckets: 10 });
  for (let i = 0; i < 3; i++) w.failure(50);
  t.false(w.failure(1150), 'one failure in the window (slices 2 to 11)');
  t.true(w.failure(1150));
  const r = new FailureRatio({ ratio: 1, windowMs: 1000, minVolume: 2, buckets: 10 });
  r.failure(0);
  r.reset();
  t.false(r.failure(0));
  t.true(r.failure(0));
  // Successes expire too: in slice 20, a success of slice 0 no longer dilutes the ratio.
  const s = new FailureRatio({ ratio: 1, windowMs: 1000, minVolume: 2, buckets: 10 });
  s.success(0);
  s.failure(2150);
  t.true(s.failure(2150));
  // And a success in a live slice does count against the ratio.
  const u = new FailureRatio({ ratio: 1, windowMs: 1000, minVolume: 2, buckets: 10 });
  u.success(500);
  u.failure(900);
  t.false(u.failure(900));
});
