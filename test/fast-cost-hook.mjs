// Loaded (--import) into each ava process by `node test/fast-costs.mjs`: at exit it appends the
// process's CPU time and its test file to the log named by FAST_COST_LOG. ava's worker keeps its
// options (the file it runs) in lib/worker/options.cjs, beside the worker's own script.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// An ava worker runs ava/lib/worker/base.js; a child a test forks does not.
const worker = process.argv[1] ?? '';
if (isMainThread && process.env.FAST_COST_LOG && worker.endsWith('/lib/worker/base.js')) {
  const options = createRequire(worker)('./options.cjs');
  process.on('exit', () => {
    const u = process.cpuUsage();
    appendFileSync(process.env.FAST_COST_LOG, `${JSON.stringify({ file: options.get().file, cpuS: (u.user + u.system) / 1e6 })}\n`);
  });
}
