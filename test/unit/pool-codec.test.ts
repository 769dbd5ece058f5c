import test, { type ExecutionContext } from 'ava';
import { isDeepStrictEqual } from 'node:util';
import type { TransferListItem } from 'node:worker_threads';
import { decodeResult, encodeResult, PACK_MIN_BYTES } from '../../src/pool/codec.js';
import { createPool } from '../../src/pool/create-pool.js';
import { Op } from '../../src/pool/protocol.js';
import { makeChatCompletion } from '../helpers/payloads.js';
import { runOn, task } from '../helpers/pool-fixtures.js';

const ONE_MB = makeChatCompletion(1024 * 1024);

/** ava's deepEqual spends about half a second on a 1 MB value; util's check takes 20 ms, and ava diffs only a mismatch. */
function sameData(t: ExecutionContext, actual: unknown, expected: unknown, message?: string): void {
  const same = isDeepStrictEqual(actual, expected);
  t.true(same, message);
  if (!same) t.deepEqual(actual, expected, message);
}

function roundTrip(value: unknown): { packed: boolean; transferred: number; back: unknown } {
  const transfer: TransferListItem[] = [];
  const msg = encodeResult(1, value, transfer);
  return { packed: msg[0] === Op.Packed, transferred: transfer.length, back: decodeResult(structuredClone(msg, { transfer: transfer as never })) };
}

test('a large JSON-shaped result is packed with msgpack in a transferred buffer and decodes equal', (t) => {
  for (const [size, value] of [['4 KB', makeChatCompletion(4 * 1024)], ['64 KB', makeChatCompletion(64 * 1024)], ['1 MB', ONE_MB]] as const) {
    const r = roundTrip(value);
    t.true(r.packed, size);
    t.is(r.transferred, 1);
    sameData(t, r.back, value);
  }
});

test('small results and values msgpack would change go by structured clone', (t) => {
  const big = 'x'.repeat(PACK_MIN_BYTES);
  for (const value of [null, 42, 'short', { a: 1 }, { big, when: new Date(5) }, { big, m: new Map([[1, 2]]) }, { big, z: -0 }, { big, u: undefined }, [big, , 1]]) {
    const r = roundTrip(value);
    t.false(r.packed);
    t.deepEqual(r.back, value);
  }
});

test('a binary result is transferred, not copied', (t) => {
  const bytes = new Uint8Array(4096).fill(7);
  const r = roundTrip(bytes);
  t.false(r.packed);
  t.is(r.transferred, 1);
  t.is(bytes.byteLength, 0); // detached: it moved
  t.is((r.back as Uint8Array)[4095], 7);
});

for (const kind of ['piscina', 'tinypool'] as const) {
  test(`${kind}: a 1 MB JSON result crosses the thread whole`, async (t) => {
    const pool = createPool({ kind, threads: 1 });
    t.teardown(() => pool.close());
    sameData(t, await runOn(pool, task('echo', ONE_MB), new AbortController().signal), ONE_MB);
  });
}
