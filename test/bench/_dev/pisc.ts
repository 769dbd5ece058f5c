import { readFileSync } from 'node:fs';
import { CallContext } from '../../../src/core/call-context.js';
import { Executor } from '../../../src/executor/executor.js';
import { AbortHandle } from '../../../src/core/abort-handle.js';
import { PiscinaPool } from '../../../src/pool/worker-pool.js';
import { fixtureService, task } from '../../helpers/pool-fixtures.js';
const mainNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
const ctx = CallContext.new('bench');
const ex = new Executor({ concurrency: 1024, queueCapacity: 6000, pool: { kind: 'piscina', threads: 2 } });
const noop = fixtureService('noop');
const pool = new PiscinaPool({ threads: 2 });
const t = task('noop', null);
const sides: [string, (n: number) => Promise<unknown>][] = [
  ['executor', (n) => Promise.all(Array.from({ length: n }, () => ex.call(noop, null, ctx)))],
  ['pool', (n) => Promise.all(Array.from({ length: n }, () => pool.run(t, new AbortHandle())))],
];
for (const [, f] of sides) await f(2000);
const res: Record<string, number[]> = { executor: [], pool: [] };
for (let r = 0; r < Number(process.argv[2] ?? 8); r++) for (const [name, f] of sides) { const c0 = mainNs(); await f(5000); res[name]!.push((mainNs() - c0) / 5000 / 1000); }
for (const k in res) { const a = res[k]!.sort((x, y) => x - y); console.log(k, 'main-thread CPU µs/call median', a[a.length >> 1]!.toFixed(2), 'min', a[0]!.toFixed(2)); }
await ex.close(); await pool.close();
