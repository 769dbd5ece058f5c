// Stryker over one source file at a time, each with the fast ava subset that covers it.
// Run it through `npm run mutate -- <folder or file>` (test/mutation/mutate.mjs), which sets
// MUTATE_FILE and MUTATE_TESTS; see README "Mutation testing".
import { reportName } from './test/mutation/report-name.mjs';

const file = process.env.MUTATE_FILE ?? 'src/limits/sliding-window.ts';
const tests = process.env.MUTATE_TESTS ?? '.mutate-build/test/unit/limiter.test.js';
const name = reportName(file);
// `file:10-12+40-41`: only the mutants on those lines (a re-run of the survivors).
const [path, ranges] = file.split(':');
const mutate = ranges === undefined ? [path] : ranges.split('+').map((r) => `${path}:${r}`);

export default {
  $schema: './node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  testRunner: 'command',
  // --fail-fast: the first failing assertion kills the mutant; no need to run the rest.
  // Built once per file (all mutants sit behind switches), then ava's CLI straight from
  // node_modules on the compiled tests: npx and tsx cost a second or more of CPU per run.
  buildCommand: 'node test/build-js.mjs',
  commandRunner: { command: `node node_modules/ava/entrypoints/cli.mjs --config ava.mutate.config.js --fail-fast ${tests}` },
  mutate,
  // Two mutants at once, ava at one test file each (ava.mutate.config.js): the footprint of one
  // `ava --concurrency 2` run. Run it under `nice -n 19` on a shared machine. MUTATE_CONCURRENCY
  // raises it for subsets that mostly wait (the Redis tests use little CPU).
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 2),
  // The machine is shared and loaded: a slow run is not an infinite loop.
  timeoutMS: 30_000,
  dryRunTimeoutMinutes: 10,
  ignoreStatic: true,
  ignorePatterns: ['dist', '.bench-build', '.mutate-build', 'bench-results', 'soak-out', 'reports', '.stryker-tmp'],
  tempDirName: `.stryker-tmp/${name}`,
  reporters: ['clear-text', 'json', 'progress-append-only'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  cleanTempDir: 'always',
};
