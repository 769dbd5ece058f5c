/**
 * `npm run bench [-- name ...]`: runs every test/bench/*.bench.ts (or those whose file name
 * contains one of the names), prints one table and the JSON, and writes bench-results/latest.json.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { EXT, ROOT } from '../helpers/paths.js';
import { printTable, type BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(`.bench${EXT}`))
  .filter((f) => filters.length === 0 || filters.some((n) => f.includes(n)))
  .sort();

if (typeof globalThis.gc !== 'function') console.warn('note: run with --expose-gc (npm run bench does) for the memory figures');

const all: (BenchResult & { bench: string })[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run?: () => Promise<BenchResult[]> };
  if (typeof mod.run !== 'function') continue;
  const name = file.slice(0, -`.bench${EXT}`.length);
  process.stderr.write(`running ${name} ...\n`);
  const started = performance.now();
  for (const r of await mod.run()) all.push({ bench: name, ...r });
  process.stderr.write(`  ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

printTable(all.map((r) => ({ ...r, name: `${r.bench}: ${r.name}` })));
const report = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString(), results: all };
const out = join(ROOT, 'bench-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'latest.json'), JSON.stringify(report, null, 2));
console.log(JSON.stringify(report, null, 2));
