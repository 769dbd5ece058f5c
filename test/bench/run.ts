/**
 * `npm run bench [-- name ...]`: runs every test/bench/*.bench.ts (or those whose file name
 * contains one of the names), prints one table and the JSON, and writes bench-results/latest.json.
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
import { EXT, ROOT } from '../helpers/paths.js';
import { printTable, type BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));

// The heap figures take full GCs (helpers/measure.ts heapAfterGc); the children inherit the flag.
if (typeof globalThis.gc !== 'function') {
  console.error('run the benchmarks with node --expose-gc (npm run bench and npm run bench:source do)');
  process.exit(2);
}

if (process.argv[2] === '--child') {
  const mod = (await import(pathToFileURL(join(here, process.argv[3]!)).href)) as { run?: () => Promise<BenchResult[]> };
  const results = typeof mod.run === 'function' ? await mod.run() : [];
  process.send!(results, () => process.exit(0));
  await new Promise(() => {});
}

const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(`.bench${EXT}`))
  .filter((f) => filters.length === 0 || filters.some((n) => f.includes(n)))
  .sort();

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

const all: (BenchResult & { bench: string })[] = [];
for (const file of files) {
  const name = file.slice(0, -`.bench${EXT}`.length);
  process.stderr.write(`running ${name} ...\n`);
  const started = performance.now();
  for (const r of await runChild(file)) all.push({ bench: name, ...r });
  process.stderr.write(`  ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

printTable(all.map((r) => ({ ...r, name: `${r.bench}: ${r.name}` })));
const report = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString(), results: all };
const out = join(ROOT, 'bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'latest.json'), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report, null, 2));
