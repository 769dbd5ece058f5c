/**
 * Where `value` holds something a worker thread would not receive as sent, or `undefined`.
 * Structured clone copies a class instance as a plain object of its own fields: its
 * prototype, methods, getters and `#private` state are silently lost, so a handler would run
 * on something other than what the caller passed. Plain objects, arrays, primitives and the
 * built-ins structured clone keeps (Date, RegExp, Map, Set, errors, binary data) pass.
 */
export function classInstanceIn(value: unknown): { path: string; name: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  ancestors.length = 0;
  return walk(value);
}

const kept: ReadonlySet<unknown> = new Set([Date.prototype, RegExp.prototype, ArrayBuffer.prototype, SharedArrayBuffer.prototype, DataView.prototype, Boolean.prototype, Number.prototype, String.prototype]);

/**
 * The objects above the one being walked (a cycle returns to one of them). Reused across calls,
 * and a path is only built on the way back from a find: checking a request allocates nothing.
 */
const ancestors: object[] = [];

function walk(value: object): { path: string; name: string } | undefined {
  if (ancestors.includes(value)) return undefined;
  const proto: unknown = Object.getPrototypeOf(value);
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const bad = inside(value[i], i);
        if (bad) return bad;
      }
      return undefined;
    }
    if (proto === Object.prototype || proto === null) {
      for (const key in value) {
        const v: unknown = (value as Record<string, unknown>)[key];
        if (typeof v !== 'object' || v === null) continue;
        const bad = inside(v, key);
        if (bad) return bad;
      }
      return undefined;
    }
    if (kept.has(proto) || ArrayBuffer.isView(value) || value instanceof Error) return undefined;
    if (value instanceof Map) {
      let i = 0;
      for (const [k, v] of value) {
        const bad = inside(k, i, '/key') ?? inside(v, i, '/value');
        if (bad) return bad;
        i++;
      }
      return undefined;
    }
    if (value instanceof Set) {
      let i = 0;
      for (const v of value) {
        const bad = inside(v, i);
        if (bad) return bad;
        i++;
      }
      return undefined;
    }
  } finally {
    ancestors.pop();
  }
  const ctor = (proto as { constructor?: { name?: unknown } } | undefined)?.constructor?.name;
  return { path: '', name: typeof ctor === 'string' && ctor !== '' ? ctor : 'an object with a prototype' };
}

/** What `walk` finds in `v`, the member `key` (then `suffix`) of its parent. */
function inside(v: unknown, key: string | number, suffix = ''): { path: string; name: string } | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const bad = walk(v);
  if (bad) bad.path = `/${key}${suffix}${bad.path}`;
  return bad;
}
