import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { betterOf } from './targets.js';
import type { BenchResult } from './types.js';

export type Row = BenchResult & { bench: string };

export interface BenchReport {
  node: string;
  cpus: number;
  cpu: string | undefined;
  date: string;
  results: Row[];
}

export interface Comparison {
  row: Row;
  base: Row | undefined;
  /** (median - baseline median) / |baseline median|; null without a baseline row or with a 0 baseline. */
  change: number | null;
  /** The two runs' min–max ranges do not overlap: the row moved beyond its run-to-run spread. */
  moved: boolean;
  /** Moved, the worse way for the row. */
  regressed: boolean;
}

const NAME = /^[\w.-]{1,64}$/;

export const rowKey = (r: Row) => `${r.bench}: ${r.name}`;

export function baselinePath(root: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`baseline name '${name}' must be letters, digits, '.', '_' or '-'`);
  return join(root, 'bench-results', 'baselines', `${name}.json`);
}

export function loadBaseline(root: string, name: string): BenchReport {
  const file = baselinePath(root, name);
  if (!existsSync(file)) throw new Error(`no baseline '${name}' (${file}); save one with: npm run bench -- --save ${name}`);
  return JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
}

export function saveBaseline(root: string, name: string, report: BenchReport): string {
  const file = baselinePath(root, name);
  mkdirSync(join(root, 'bench-results', 'baselines'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** Each row of this run beside the same row of the baseline (rows the baseline lacks have none). */
export function compare(rows: readonly Row[], baseline: BenchReport): Comparison[] {
  const byKey = new Map(baseline.results.map((r) => [rowKey(r), r]));
  return rows.map((row) => {
    const base = byKey.get(rowKey(row));
    if (base === undefined) return { row, base, change: null, moved: false, regressed: false };
    const change = base.median === 0 ? null : (row.median - base.median) / Math.abs(base.median);
    const moved = row.min > base.max || row.max < base.min;
    const better = betterOf(row);
    const regressed = moved && better !== undefined && (better === 'higher' ? row.median < base.median : row.median > base.median);
    return { row, base, change, moved, regressed };
  });
}
