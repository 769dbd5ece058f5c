/**
 * Where `value` holds something a worker thread would not receive as sent, or `undefined`.
 * Structured clone copies a class instance as a plain object of its own fields: its
 * prototype, methods, getters and `#private` state are silently lost, so a handler would run
 * on something other than what the caller passed. Plain objects, arrays, primitives and the
 * built-ins structured clone keeps (Date, RegExp, Map, Set, errors, binary data) pass.
 */
export function classInstanceIn(value: unknown): { path: string; name: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return walk(value, '', new Set());
}

const kept: ReadonlySet<unknown> = new Set([Date.prototype, RegExp.prototype, ArrayBuffer.prototype, SharedArrayBuffer.prototype, DataView.prototype, Boolean.prototype, Number.prototype, String.prototype]);

function walk(value: object, path: string, seen: Set<object>): { path: string; name: string } | undefined {
  if (seen.has(value)) return undefined;
  seen.add(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null) {
        const bad = walk(v, `${path}/${i}`, seen);
        if (bad) return bad;
      }
    }
    return undefined;
  }
  if (proto === Object.prototype || proto === null) {
    for (const key in value) {
      const v: unknown = (value as Record<string, unknown>)[key];
      if (typeof v === 'object' && v !== null) {
        const bad = walk(v, `${path}/${key}`, seen);
        if (bad) return bad;
      }
    }
    return undefined;
  }
  if (kept.has(proto) || ArrayBuffer.isView(value) || value instanceof Error) return undefined;
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      const bad = (typeof k === 'object' && k !== null ? walk(k, `${path}/${i}/key`, seen) : undefined) ?? (typeof v === 'object' && v !== null ? walk(v, `${path}/${i}/value`, seen) : undefined);
      if (bad) return bad;
      i++;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let i = 0;
    for (const v of value) {
      const bad = typeof v === 'object' && v !== null ? walk(v, `${path}/${i}`, seen) : undefined;
      if (bad) return bad;
      i++;
    }
    return undefined;
  }
  const ctor = (proto as { constructor?: { name?: unknown } } | undefined)?.constructor?.name;
  return { path, name: typeof ctor === 'string' && ctor !== '' ? ctor : 'an object with a prototype' };
}
