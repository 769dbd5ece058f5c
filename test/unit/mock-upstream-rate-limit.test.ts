import test from 'ava';
import fc from 'fast-check';
import { formatDuration } from '../../src/harness/mock-upstream.js';
import { parseDuration } from '../../src/transport/rate-limit-headers.js';

test('formatDuration: the announced reset is never earlier than the real one, and at most 1 µs later', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.double({ min: 0, max: 3_600_000, noNaN: true }), (ms) => {
        const read = parseDuration(formatDuration(ms))!;
        return read >= ms - 1e-9 && read - ms <= 0.001 + 1e-9;
      }),
      { numRuns: 2000, seed: 12 },
    ),
  );
  t.is(formatDuration(1249.2), '1.2492s', 'not 1.2s: a reset rounded down sends clients back early');
  t.is(formatDuration(61_000.5), '1m1.0005s');
});
