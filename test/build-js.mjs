#!/usr/bin/env node
// Compiles src, workers and the tests to plain JavaScript with esbuild (about a second), so a
// test run is plain node: no tsx compiling and loading in every ava process and worker thread.
// `npm run test:fast` runs from .test-build/; Stryker's buildCommand (stryker.config.mjs) builds
// .mutate-build/ in its sandbox. The tests' data files (recorded responses, .mjs helpers) are
// copied beside them.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const outdir = process.argv[2] ?? '.mutate-build';
const roots = ['src', 'workers', 'test/unit', 'test/integration', 'test/helpers', 'test/fixtures', 'test/bench'];

function files(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const isTs = (f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.cts');
rmSync(outdir, { recursive: true, force: true });
// test/bench/_dev: local scratch, not part of the tree.
const all = roots.flatMap(files).filter((f) => !f.includes('/_dev/'));
// CommonJS sources (.cts) become .cjs, as tsc emits them.
await build({
  entryPoints: all.filter((f) => f.endsWith('.cts')),
  outdir,
  outbase: '.',
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
await build({
  entryPoints: all.filter((f) => isTs(f) && !f.endsWith('.cts')),
  outdir,
  outbase: '.',
  format: 'esm',
  platform: 'node',
  // Node 20 has no `await using`: esbuild lowers it.
  target: 'node20',
  logLevel: 'warning',
});
for (const f of all.filter((f) => !isTs(f))) cpSync(f, join(outdir, f));
