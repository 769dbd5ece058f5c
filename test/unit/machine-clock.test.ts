import test from 'ava';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromMachine, toMachine } from '../../src/core/clock.js';
import { offset } from '../helpers/machine-clock-thread.js';
import { EXT, TREE } from '../helpers/paths.js';

// Send stamps and arrival stamps cross threads and processes. Each thread's performance.timeOrigin
// is its own reading of the wall clock (0.3 ms apart between two threads was measured), so the
// crossing goes through the machine's monotonic clock, which every thread reads alike.

test('every thread reads the machine clock alike: a fresh thread agrees with this one within 0.005 ms', async (t) => {
  const file = pathToFileURL(join(TREE, 'test/helpers', `machine-clock-thread${EXT}`)).href;
  // From source the thread registers tsx itself (as the upstream thread does).
  const code = EXT === '.ts' ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(file)}); });` : `import(${JSON.stringify(file)});`;
  const here = offset();
  const offsets: number[] = [];
  for (let i = 0; i < 8; i++) {
    const w = new Worker(code, { eval: true });
    offsets.push(await new Promise<number>((resolve, reject) => w.once('message', resolve).once('error', reject)));
    await w.terminate();
  }
  t.log(`offsets from this thread: ${offsets.map((o) => (o - here).toFixed(4)).join(' ')} ms`);
  for (const o of offsets) t.true(Math.abs(o - here) <= 0.005, `a thread ${(o - here).toFixed(4)} ms off`);
});

test('fromMachine undoes toMachine', (t) => {
  for (const x of [0, 1.25, 123_456.789]) t.true(Math.abs(fromMachine(toMachine(x)) - x) < 1e-6);
});
