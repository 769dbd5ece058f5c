#!/usr/bin/env node
// npm run mutate -- src/limits [src/middleware/retry.ts ...]
// Runs Stryker on each source file of the given folders (or the given files), one file at a
// time, with the ava subset that covers that file (SUBSETS below), then prints the scores.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { reportName } from './report-name.mjs';

/** Source file -> the fast ava files that cover it. A file not listed uses its folder's entry. */
const SUBSETS = {
  'src/limits': ['test/unit/limiter.test.ts', 'test/unit/limits-window.test.ts'],
  'src/limits/sliding-window.ts': ['test/unit/sliding-window.test.ts', 'test/unit/limits-window.test.ts', 'test/unit/limiter.test.ts'],
  'src/limits/memory-limiter.ts': ['test/unit/memory-limiter.test.ts', 'test/unit/limiter.test.ts', 'test/unit/limiter-send-time.test.ts', 'test/unit/limiter-provider.test.ts'],
  'src/limits/provider-ceiling.ts': ['test/unit/provider-ceiling.test.ts', 'test/unit/limiter-provider.test.ts', 'test/unit/limiter.test.ts'],
  'src/limits/feedback.ts': ['test/unit/limiter-feedback.test.ts', 'test/unit/limiter-send-time.test.ts', 'test/unit/limiter-provider.test.ts', 'test/unit/executor-timing.test.ts'],
  'src/limits/redis-limiter.ts': ['test/integration/redis-limiter.test.ts', 'test/integration/redis-outage.test.ts'],
  'src/limits/redis-scripts.ts': ['test/integration/redis-limiter.test.ts', 'test/integration/redis-outage.test.ts'],
  'src/middleware/retry.ts': ['test/unit/middleware-retry.test.ts', 'test/unit/middleware-timing.test.ts'],
  'src/middleware/backoff.ts': ['test/unit/middleware-retry.test.ts'],
  'src/middleware/sleep.ts': ['test/unit/middleware-retry.test.ts'],
  'src/middleware/timeout.ts': ['test/unit/middleware-timeout.test.ts', 'test/unit/middleware-timing.test.ts'],
  'src/middleware/circuit-breaker.ts': ['test/unit/middleware-circuit-breaker.test.ts', 'test/unit/middleware-breaker-policy.test.ts'],
  'src/middleware/breaker-policy.ts': ['test/unit/middleware-breaker-policy.test.ts', 'test/unit/middleware-circuit-breaker.test.ts'],
  'src/middleware/hook-registry.ts': ['test/unit/middleware-hook-registry.test.ts', 'test/unit/middleware-hooks.test.ts', 'test/unit/middleware-timing.test.ts'],
  'src/middleware/hooks.ts': ['test/unit/middleware-hooks.test.ts'],
  'src/middleware/redaction.ts': ['test/unit/middleware-redaction.test.ts'],
  'src/middleware/policy-gate.ts': ['test/unit/middleware-policy-gate.test.ts'],
  'src/middleware/capabilities.ts': ['test/unit/middleware-capabilities.test.ts', 'test/unit/middleware-policy-gate.test.ts'],
  'src/middleware/metrics.ts': ['test/unit/middleware-metrics-exact.test.ts', 'test/unit/middleware-metrics.test.ts'],
  'src/middleware/compose.ts': ['test/unit/middleware-compose.test.ts'],
  'src/middleware/next-safely.ts': ['test/unit/middleware-redaction.test.ts'],
  'src/middleware/observe-stream.ts': ['test/unit/middleware-observe-stream.test.ts'],
  'src/middleware/scraped-histogram.ts': ['test/unit/middleware-metrics.test.ts'],
  'src/middleware': ['test/unit/middleware-*.test.ts'],
  'src/executor/wake-timer.ts': ['test/unit/wake-timer.test.ts', 'test/unit/executor-timing.test.ts'],
  'src/executor/deadline-heap.ts': ['test/unit/deadline-heap.test.ts', 'test/unit/executor.test.ts'],
  'src/executor/latency-histogram.ts': ['test/unit/latency-histogram.test.ts', 'test/unit/soak-measurements.test.ts'],
  'src/executor/admission.ts': ['test/unit/admission.test.ts', 'test/unit/executor-surface.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-timing.test.ts', 'test/unit/executor-attempts.test.ts'],
  'src/executor/terminal.ts': ['test/unit/terminal.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-promises.test.ts'],
  'src/executor/executor.ts': ['test/unit/executor-surface.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-promises.test.ts', 'test/unit/executor-attempts.test.ts'],
  'src/executor/executor-stats.ts': ['test/unit/executor-stats.test.ts', 'test/unit/stats-history.test.ts', 'test/unit/executor-surface.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-promises.test.ts'],
  'src/executor/submission.ts': ['test/unit/submission.test.ts', 'test/unit/coded-errors.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-promises.test.ts'],
  'src/executor/call-stream.ts': ['test/unit/call-stream.test.ts', 'test/unit/executor-promises.test.ts', 'test/unit/executor-surface.test.ts', 'test/unit/executor.test.ts'],
  'src/executor/dispatch-jitter.ts': ['test/unit/executor-parts.test.ts', 'test/unit/executor-attempts.test.ts', 'test/unit/limiter-send-time.test.ts', 'test/unit/terminal.test.ts'],
  'src/executor/call-entry.ts': ['test/unit/call-stream.test.ts', 'test/unit/executor-parts.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-surface.test.ts', 'test/unit/admission.test.ts'],
  'src/executor/linked-queue.ts': ['test/unit/executor-parts.test.ts', 'test/unit/admission.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-surface.test.ts'],
  'src/executor': ['test/unit/executor-parts.test.ts', 'test/unit/executor.test.ts', 'test/unit/executor-surface.test.ts', 'test/unit/executor-promises.test.ts', 'test/unit/executor-attempts.test.ts', 'test/unit/admission.test.ts', 'test/unit/terminal.test.ts', 'test/unit/executor-timing.test.ts'],
  'src/limits/create-limiter.ts': ['test/unit/create-limiter.test.ts', 'test/unit/limiter.test.ts', 'test/unit/coded-errors.test.ts', 'test/unit/limiter-provider.test.ts', 'test/unit/executor-surface.test.ts'],
};

/** Type-only files: nothing to mutate. */
const SKIP = new Set(['src/limits/types.ts', 'src/middleware/types.ts', 'src/middleware/options.ts']);

function sources(arg) {
  const a = arg.replace(/\/$/, '');
  // `file:10-12+40-41`: only the mutants on those lines, e.g. to re-run the survivors of a
  // file after writing tests for them.
  if (/\.ts:\d/.test(a)) return [a];
  if (statSync(a).isFile()) return [a];
  return readdirSync(a).filter((f) => f.endsWith('.ts')).map((f) => join(a, f)).filter((f) => !SKIP.has(f));
}

function subset(target) {
  const file = target.replace(/:.*/, '');
  const folder = file.slice(0, file.lastIndexOf('/'));
  return (SUBSETS[file] ?? SUBSETS[folder] ?? ['test/unit/**/*.test.ts']).filter((t) => t.includes('*') || existsSync(t));
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: npm run mutate -- <folder or file> [...]   e.g. npm run mutate -- src/limits');
  process.exit(2);
}
const rows = [];
for (const target of args.flatMap(sources)) {
  const file = target.replace(/:.*/, '');
  // The runs use the tests as test/build-js.mjs compiles them (see ava.mutate.config.js).
  const tests = subset(target).map((t) => `.mutate-build/${t.replace(/\.ts$/, '.js')}`).join(' ');
  console.log(`\n== ${target}  (tests: ${tests})`);
  const r = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, MUTATE_FILE: target, MUTATE_TESTS: tests } });
  const json = `reports/mutation/${reportName(target)}.json`;
  if (r.status !== 0 || !existsSync(json)) {
    rows.push({ file: target, error: `stryker exited ${r.status}` });
    continue;
  }
  const counts = {};
  for (const m of JSON.parse(readFileSync(json, 'utf8')).files[file]?.mutants ?? []) counts[m.status] = (counts[m.status] ?? 0) + 1;
  rows.push({ file: target, ...counts });
}
console.log('\nfile | Killed | Timeout | Survived | NoCoverage | Ignored | score');
for (const r of rows) {
  if (r.error) {
    console.log(`${r.file} | ${r.error}`);
    continue;
  }
  const detected = (r.Killed ?? 0) + (r.Timeout ?? 0);
  const valid = detected + (r.Survived ?? 0) + (r.NoCoverage ?? 0);
  console.log(`${r.file} | ${r.Killed ?? 0} | ${r.Timeout ?? 0} | ${r.Survived ?? 0} | ${r.NoCoverage ?? 0} | ${r.Ignored ?? 0} | ${valid ? ((100 * detected) / valid).toFixed(1) : '-'}%`);
}
