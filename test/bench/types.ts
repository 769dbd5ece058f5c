export interface BenchResult {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  /** Free text; `target >= 1.5` (or `<`, `<=`, `>`; a bare `target 0` means at most 0) states the row's target, which `npm run bench` enforces. */
  note?: string;
  /**
   * Set when this run measured why the machine, not callpool, decides the figure (e.g. the
   * event-loop stalls of a bare loop in the same run): a missed target then does not fail the run.
   */
  machineBound?: string;
  /** Which way is better, where neither the target nor the unit says. */
  better?: 'higher' | 'lower';
}

export type Bench = () => Promise<BenchResult[]>;

export function result(name: string, unit: string, samples: readonly number[], note?: string, extra: Pick<BenchResult, 'machineBound' | 'better'> = {}): BenchResult {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { name, unit, median, min: s[0]!, max: s.at(-1)!, runs: s.length, ...(note ? { note } : {}), ...extra };
}

export function median(samples: readonly number[]): number {
  return result('', '', samples).median;
}

export const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3));

export function printTable(results: readonly BenchResult[]): void {
  const rows = results.map((r) => [r.name, `${fmt(r.median)} ${r.unit}`, `${fmt(r.min)} – ${fmt(r.max)}`, String(r.runs), r.note ?? '']);
  const head = ['benchmark', 'median', 'min – max', 'runs', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Lets a bench file run on its own: prints its table and JSON. */
export async function runStandalone(url: string, bench: Bench): Promise<void> {
  const { pathToFileURL } = await import('node:url');
  if (process.argv[1] === undefined || url !== pathToFileURL(process.argv[1]).href) return;
  const results = await bench();
  printTable(results);
  console.log(JSON.stringify(results, null, 2));
}
