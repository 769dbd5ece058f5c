/**
 * `npm run bench [-- name ...] [--save NAME] [--compare NAME [--fail-on-regression]]`: runs every
 * test/bench/*.bench.ts (or those whose file name contains one of the names), prints the JSON
 * and one table, and writes bench-results/latest.json.
 *
 * - `--save NAME` also writes the run as baseline NAME (bench-results/baselines/NAME.json).
 * - `--compare NAME` prints each row beside baseline NAME with the change, and marks rows whose
 *   min–max range no longer overlaps the baseline's (moved beyond their run-to-run spread);
 *   `--fail-on-regression` exits 1 when one of them moved the worse way. A missing baseline is
 *   an error before any benchmark runs.
 *
 * Exit codes: 0; 1 when a row misses its target (unless the row says the machine bound it, with
 * the measurement) or, with `--fail-on-regression`, a row regressed; 2 for bad arguments.
 *
 * Each bench file runs in a child process of its own: benches sharing one process changed each
 * other's figures. After the executor bench, for one, V8's young generation had grown to 16 MB
 * semi-spaces and the middleware bench's streams ran at 250k chunks per CPU-second instead of
 * 392k (the with/without-breaker ratio went from 99.9 % to 93.4 %).
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { EXT, ROOT } from '../helpers/paths.js';
import { baselinePath, compare, loadBaseline, saveBaseline, type BenchReport, type Comparison, type Row } from './baseline.js';
import { judge } from './targets.js';
import { fmt, type BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
// Overridable so that the runner itself can be tested on small fake benches.
const benchDir = process.env['CALLPOOL_BENCH_DIR'] ?? here;
const outRoot = process.env['CALLPOOL_BENCH_OUT'] ?? ROOT;

// The heap figures take full GCs (helpers/measure.ts heapAfterGc); the children inherit the flag.
if (typeof globalThis.gc !== 'function') {
  console.error('run the benchmarks with node --expose-gc (npm run bench and npm run bench:source do)');
  process.exit(2);
}

if (process.argv[2] === '--child') {
  const mod = (await import(pathToFileURL(join(benchDir, process.argv[3]!)).href)) as { run?: () => Promise<BenchResult[]> };
  const results = typeof mod.run === 'function' ? await mod.run() : [];
  process.send!(results, () => process.exit(0));
  await new Promise(() => {});
}

function args() {
  try {
    return parseArgs({ allowPositionals: true, options: { save: { type: 'string' }, compare: { type: 'string' }, 'fail-on-regression': { type: 'boolean' } } });
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(2);
  }
}

const { values: flags, positionals: filters } = args();
if (flags['fail-on-regression'] && flags.compare === undefined) {
  console.error('bench: --fail-on-regression needs --compare NAME');
  process.exit(2);
}
// Checked before anything runs: a typo should not cost a whole benchmark run.
let baseline: BenchReport | undefined;
try {
  if (flags.save !== undefined) baselinePath(outRoot, flags.save);
  if (flags.compare !== undefined) baseline = loadBaseline(outRoot, flags.compare);
} catch (err) {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(2);
}

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith(`.bench${EXT}`))
  .filter((f) => filters.length === 0 || filters.some((n) => f.includes(n)))
  .sort();
if (files.length === 0) {
  console.error(`bench: no benchmark file matches ${filters.join(', ')}`);
  process.exit(2);
}

/** Runs one bench file in a fresh process (same node flags as this one) and returns its results. */
function runChild(file: string): Promise<BenchResult[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', file], { execArgv: process.execArgv });
    let results: BenchResult[] | undefined;
    child.on('message', (m: BenchResult[]) => (results = m));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && results !== undefined ? resolve(results) : reject(new Error(`bench ${file} exited with ${code}`))));
  });
}

const all: Row[] = [];
for (const file of files) {
  const name = file.slice(0, -`.bench${EXT}`.length);
  process.stderr.write(`running ${name} ...\n`);
  const started = performance.now();
  for (const r of await runChild(file)) all.push({ bench: name, ...r });
  process.stderr.write(`  ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

const report: BenchReport = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString(), results: all };
const out = join(outRoot, 'bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'latest.json'), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report, null, 2));
console.log();

const pct = (v: number | null) => (v === null ? '' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
function targetCell(r: Row): string {
  const v = judge(r);
  if (v === undefined) return '';
  const t = `${v.target.op} ${v.target.value}`;
  return v.met ? `${t} ok` : v.machineBound !== undefined ? `${t} MISSED (machine)` : `${t} MISSED`;
}
function moveCell(c: Comparison): string {
  if (c.base === undefined) return 'new';
  if (!c.moved) return '';
  return c.regressed ? 'MOVED, worse' : 'moved';
}

const comparisons = baseline === undefined ? undefined : compare(all, baseline);
const head = ['benchmark', 'median', ...(comparisons ? ['baseline', 'change', 'moved'] : []), 'min – max', 'runs', 'target'];
const rows = all.map((r, i) => {
  const c = comparisons?.[i];
  return [
    `${r.bench}: ${r.name}`,
    `${fmt(r.median)} ${r.unit}`,
    ...(c === undefined ? [] : [c.base === undefined ? '-' : `${fmt(c.base.median)} ${c.base.unit}`, pct(c.change), moveCell(c)]),
    `${fmt(r.min)} – ${fmt(r.max)}`,
    String(r.runs),
    targetCell(r),
  ];
});
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
if (baseline !== undefined) console.log(`\nbaseline '${flags.compare}': ${baseline.date}, node ${baseline.node}, ${baseline.cpus} cpus; "moved": the min–max ranges of the two runs do not overlap`);

let code = 0;
for (const r of all) {
  const v = judge(r);
  if (v === undefined || v.met) continue;
  if (v.machineBound !== undefined) {
    console.log(`target missed, bound by the machine: ${r.bench}: ${r.name}: ${v.machineBound}`);
  } else {
    console.log(`TARGET MISSED: ${r.bench}: ${r.name}: ${fmt(r.median)} ${r.unit}, target ${v.target.op} ${v.target.value}`);
    code = 1;
  }
}
const regressed = comparisons?.filter((c) => c.regressed) ?? [];
for (const c of regressed) console.log(`regressed against '${flags.compare}': ${c.row.bench}: ${c.row.name}: ${fmt(c.base!.median)} -> ${fmt(c.row.median)} ${c.row.unit} (${pct(c.change)})`);
if (flags['fail-on-regression'] && regressed.length > 0) code = 1;
if (flags.save !== undefined) console.log(`baseline '${flags.save}' written: ${saveBaseline(outRoot, flags.save, report)}`);
process.exitCode = code;
