import { createRequire } from 'node:module';
import type { TransferListItem } from 'node:worker_threads';
import type { Packr } from 'msgpackr';
import { Op, type CallResult, type PackedResult } from './protocol.js';

/**
 * How a call's result crosses from a worker to the main thread. Measured (pool.bench.ts,
 * "codec" rows; chat-completion-shaped results): msgpackr with a transferred buffer beats
 * structured clone at 4 KB, 64 KB and 1 MB, and above all it halves the decode work left on
 * the main thread. So a JSON-shaped result (plain objects, arrays, strings, numbers, booleans,
 * null) of about `PACK_MIN_BYTES` or more is packed in the worker; anything else (small values,
 * Dates, Maps, class instances, ...) goes by structured clone, which keeps its type. Binary
 * results (an `ArrayBuffer`, or a view on a whole one) are transferred, never copied.
 */
export const PACK_MIN_BYTES = 2048;
const MAX_DEPTH = 64;

let packr: Packr | undefined;
/**
 * msgpackr, loaded with the first result packed or unpacked in this thread: most results are
 * small and never need it, and importing it with the worker's entry cost each thread about 30 ms
 * of CPU. Required, its CommonJS build loads in 25 ms against 47 for its ESM one.
 */
function packer(): Packr {
  return (packr ??= new (createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr')).Packr({ useRecords: false }));
}

export function encodeResult(id: number, value: unknown, transfer: TransferListItem[]): CallResult | PackedResult {
  const buffer = transferable(value);
  if (buffer !== undefined) {
    transfer.push(buffer);
    return [Op.Result, id, value];
  }
  if (typeof value === 'object' && value !== null && jsonSize(value, 0) >= PACK_MIN_BYTES) {
    const packed = pack(value);
    transfer.push(packed.buffer as ArrayBuffer);
    return [Op.Packed, id, packed];
  }
  return [Op.Result, id, value];
}

/** Turns a packed result's bytes back into its value (the main thread loads this module on first use). */
export type ResultDecoder = (bytes: Uint8Array) => unknown;

export function decodeResult(msg: CallResult | PackedResult): unknown {
  return msg[0] === Op.Packed ? packer().unpack(msg[2]) : msg[2];
}

/** msgpack bytes in a buffer of their own, ready to transfer. */
export function pack(value: unknown): Uint8Array {
  const view = packer().pack(value);
  const own = new Uint8Array(view.length);
  own.set(view);
  return own;
}

export function unpack(bytes: Uint8Array): unknown {
  return packer().unpack(bytes);
}

/** Rough encoded size of a JSON-shaped value, or -1 when it holds anything else. */
function jsonSize(v: unknown, depth: number): number {
  switch (typeof v) {
    case 'string':
      return v.length + 2;
    case 'number':
      return Object.is(v, -0) ? -1 : 8;
    case 'boolean':
      return 1;
    case 'object': {
      if (v === null) return 1;
      if (depth >= MAX_DEPTH) return -1;
      let size = 2;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) return -1; // a hole: clone keeps it, msgpack would not
          const s = jsonSize(v[i], depth + 1);
          if (s < 0) return -1;
          size += s;
        }
        return size;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return -1;
      for (const key in v) {
        const s = jsonSize((v as Record<string, unknown>)[key], depth + 1);
        if (s < 0) return -1;
        size += s + key.length;
      }
      return size;
    }
    default:
      return -1;
  }
}

function transferable(value: unknown): ArrayBuffer | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) {
    return value.buffer;
  }
  return undefined;
}
