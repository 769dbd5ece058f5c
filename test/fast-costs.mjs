#!/usr/bin/env node
// Measures what each test file that test:fast runs in a group costs: each such file in an ava
// process of its own, two at a time; its CPU time less that of a process running a test file
// that only loads the library (the median of three). Writes test/fast-costs.json, which
// test/fast-plan.mjs balances the groups by. Run it after `node test/build-js.mjs .test-build`
// on a machine doing nothing else. A file missing from the table is estimated from its size.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { BUILD, COSTS_FILE, sharedFiles } from './fast-plan.mjs';

// In the build, inside the project: ava takes test files relative to it.
const dir = join(BUILD, 'test', 'fast-costs');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const log = join(dir, 'cpu.log');
const empty = join(dir, 'empty.test.js');
// It loads the library, as every group does once for all its files, and checks that it did.
writeFileSync(
  empty,
  `import test from 'ava';\nimport * as callpool from '${relative(dir, join(BUILD, 'src', 'index.js'))}';\ntest('the library loads: Executor is its class', (t) => t.is(typeof callpool.Executor, 'function'));\n`,
);

function ava(name, files) {
  const config = join(dir, `${name}.config.mjs`);
  const options = {
    files,
    nodeArguments: ['--expose-gc', `--import=${resolve('test/fast-cost-hook.mjs')}`],
    environmentVariables: { CALLPOOL_OBSERVER_REALTIME: '0' },
    workerThreads: false,
    timeout: '2m',
    concurrency: 2,
  };
  writeFileSync(config, `export default ${JSON.stringify(options)};\n`);
  const r = spawnSync('npx', ['ava', '--config', config, ...files], { stdio: 'inherit', env: { ...process.env, FAST_COST_LOG: log } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const rows = () => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
for (let i = 0; i < 3; i++) ava('empty', [empty]);
const baseline = rows().map((r) => r.cpuS).sort((a, b) => a - b);
const base = baseline[1];
rmSync(log);
ava('shared', sharedFiles());
const costs = {};
for (const r of rows()) costs[relative(BUILD, r.file.replace(/^file:\/\//, ''))] = Math.max(0.01, Math.round((r.cpuS - base) * 100) / 100);
rmSync(dir, { recursive: true, force: true });
const cpuS = Object.fromEntries(Object.entries(costs).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(COSTS_FILE, `${JSON.stringify({ measured: new Date().toISOString().slice(0, 10), processCpuS: Math.round(base * 100) / 100, cpuS }, null, 2)}\n`);
console.log(`${Object.keys(cpuS).length} files; a process alone ${base.toFixed(2)} CPU-s; wrote ${COSTS_FILE}`);
