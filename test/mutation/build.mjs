#!/usr/bin/env node
// Stryker's buildCommand: esbuild compiles the (instrumented) sources, workers and unit tests to
// .mutate-build/ once per file under test, so each mutant's ava run is plain node, without
// tsx compiling and loading on every start (about a third less CPU per run).
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function ts(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

await build({
  entryPoints: ['src', 'workers', 'test/unit', 'test/integration', 'test/helpers', 'test/fixtures'].flatMap(ts),
  outdir: '.mutate-build',
  outbase: '.',
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
