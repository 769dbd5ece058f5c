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

/** A package bundled into one file under the build's node_modules, where its files resolve it first. */
async function bundlePackage(name, entry, format, file, manifest) {
  const dir = join(outdir, 'node_modules', ...name.split('/'));
  await build({ entryPoints: [entry], outfile: join(dir, file), bundle: true, format, platform: 'node', target: 'node20', logLevel: 'warning' });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, ...manifest })}\n`);
}

// TypeBox: its ESM build is 266 files, which cost 140 ms of CPU to load in every test process
// and worker thread that builds a schema (10 ms as one file), about 18 of test:fast's 135 CPU-s.
// The same code, one file; `npm test` loads the package as installed. The entry is the package's
// own ESM one, wherever its exports map puts it.
await bundlePackage('@sinclair/typebox', fileURLToPath(import.meta.resolve('@sinclair/typebox')), 'esm', 'index.mjs', { type: 'module', exports: { '.': './index.mjs' } });

// AJV: its CommonJS build is about 60 files, 62-67 ms of CPU to require in every test process and
// worker thread that validates, 16 ms as one file (three fresh processes each).
await bundlePackage('ajv', createRequire(import.meta.url).resolve('ajv'), 'cjs', 'index.cjs', { main: './index.cjs' });
