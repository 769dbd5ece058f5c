#!/usr/bin/env node
// Compiles src, workers and the tests to plain JavaScript with esbuild (about a second), so a
// test run is plain node: no tsx compiling and loading in every ava process and worker thread.
// `npm run test:fast` runs from .test-build/; Stryker's buildCommand (stryker.config.mjs) builds
// .mutate-build/ in its sandbox. The tests' data files (recorded responses, .mjs helpers) are
// copied beside them.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

// TypeBox, bundled into one module where the build's files resolve it first: its ESM build is
// 266 files, which cost 140 ms of CPU to load in every test process and worker thread that
// builds a schema (10 ms as one file), about 18 of test:fast's 135 CPU-s. The same code, one
// file; `npm test` loads the package as installed.
const typebox = join(outdir, 'node_modules', '@sinclair', 'typebox');
await build({
  // The package's own ESM entry, wherever its exports map puts it.
  entryPoints: [fileURLToPath(import.meta.resolve('@sinclair/typebox'))],
  outfile: join(typebox, 'index.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
writeFileSync(join(typebox, 'package.json'), `${JSON.stringify({ name: '@sinclair/typebox', type: 'module', exports: { '.': './index.mjs' } })}\n`);

// AJV, bundled the same way: its CommonJS build is about 60 files, 62-67 ms of CPU to require in
// every test process and worker thread that validates, 16 ms as one file (three fresh processes
// each).
const ajv = join(outdir, 'node_modules', 'ajv');
await build({
  entryPoints: [createRequire(import.meta.url).resolve('ajv')],
  outfile: join(ajv, 'index.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
writeFileSync(join(ajv, 'package.json'), `${JSON.stringify({ name: 'ajv', main: './index.cjs' })}\n`);
