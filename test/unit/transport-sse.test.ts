import test from 'ava';
import fc from 'fast-check';
import { decodeSse, SSE_DONE, type SseEvent } from '../../src/transport/sse.js';

const enc = new TextEncoder();

async function* pieces(parts: readonly (string | Uint8Array)[]): AsyncGenerator<Uint8Array | string> {
  for (const p of parts) yield p;
}

async function decodeAll(parts: readonly (string | Uint8Array)[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of decodeSse(pieces(parts))) out.push(e);
  return out;
}

function splitBytes(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

const STREAM =
  ': keep-alive\n\n' +
  'data: {"id":"1","choices":[{"delta":{"content":"héllo ✓ 世界"}}]}\n\n' +
  'event: ping\nid: 7\ndata: line one\ndata: line two\n\n' +
  'data: {"a":\r\ndata: 1}\r\n\r\n' +
  `data: ${SSE_DONE}\n\n`;

const EXPECTED = [
  { data: '{"id":"1","choices":[{"delta":{"content":"héllo ✓ 世界"}}]}' },
  { event: 'ping', id: '7', data: 'line one\nline two' },
  { data: '{"a":\n1}' },
  { data: SSE_DONE },
];

function plain(events: SseEvent[]) {
  return events.map((e) => ({ ...(e.event === undefined ? {} : { event: e.event }), ...(e.id === undefined ? {} : { id: e.id }), data: e.data }));
}

test('decodeSse() - comments, multi-line data, CRLF, event names and [DONE]', async (t) => {
  t.deepEqual(plain(await decodeAll([STREAM])), EXPECTED);
});

test('decodeSse() - the same events however the bytes are split (multi-byte characters too)', async (t) => {
  const bytes = enc.encode(STREAM);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(bytes.length), { maxLength: 40 }), async (cuts) => {
      t.deepEqual(plain(await decodeAll(splitBytes(bytes, cuts))), EXPECTED);
    }),
    { numRuns: 200 },
  );
});

test('decodeSse() - one byte at a time', async (t) => {
  const bytes = enc.encode(STREAM);
  t.deepEqual(plain(await decodeAll(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)))), EXPECTED);
});

test('decodeSse() - an event not terminated by a blank line at end of stream is dropped', async (t) => {
  t.deepEqual(plain(await decodeAll(['data: complete\n\n', 'data: cut sho'])), [{ data: 'complete' }]);
});

test('decodeSse() - an event larger than the bound fails with a TransportError', async (t) => {
  const big = `data: ${'x'.repeat(5000)}`;
  const err = await t.throwsAsync(async () => {
    for await (const _ of decodeSse(pieces([big, big]), 1024)) t.fail();
  });
  t.is((err as { code?: string }).code, 'E_TRANSPORT');
});
