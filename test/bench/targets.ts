import type { BenchResult } from './types.js';

export interface Target {
  op: '>=' | '<=' | '<' | '>';
  value: number;
}

/** The target a row states in its note (`target >= 1.5`, `target < 0.5 ms`, `target 0`), if any. */
export function parseTarget(note: string | undefined): Target | undefined {
  const m = /\btarget\s*(>=|<=|<|>)?\s*(-?\d+(?:\.\d+)?)(k)?/.exec(note ?? '');
  if (m === null) return undefined;
  const value = Number(m[2]) * (m[3] === 'k' ? 1000 : 1);
  return { op: (m[1] as Target['op'] | undefined) ?? '<=', value };
}

export function meets(median: number, t: Target): boolean {
  switch (t.op) {
    case '>=':
      return median >= t.value;
    case '>':
      return median > t.value;
    case '<=':
      return median <= t.value;
    case '<':
      return median < t.value;
  }
}

/** Which way is better for a row: its own `better`, else its target's direction, else its unit's (a rate is better higher, a time or size lower). */
export function betterOf(r: BenchResult): 'higher' | 'lower' | undefined {
  if (r.better !== undefined) return r.better;
  const t = parseTarget(r.note);
  if (t !== undefined) return t.op.startsWith('>') ? 'higher' : 'lower';
  if (/\/(CPU-)?s$/.test(r.unit)) return 'higher';
  if (/^(µs|ms|s|MB|KB|B)\b/.test(r.unit)) return 'lower';
  return undefined;
}

export interface Verdict {
  target: Target;
  met: boolean;
  /** A miss the row itself explains by a measurement of the machine (then it does not fail the run). */
  machineBound: string | undefined;
}

export function judge(r: BenchResult): Verdict | undefined {
  const target = parseTarget(r.note);
  if (target === undefined) return undefined;
  const met = meets(r.median, target);
  return { target, met, machineBound: met ? undefined : r.machineBound };
}
