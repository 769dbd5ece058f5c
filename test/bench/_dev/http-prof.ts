import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { CallContext } from '../../../src/core/call-context.js';
import { Executor } from '../../../src/executor/executor.js';
import { circuitBreaker } from '../../../src/middleware/circuit-breaker.js';
import { metrics } from '../../../src/middleware/metrics.js';
import { policyGate } from '../../../src/middleware/policy-gate.js';
import { retry } from '../../../src/middleware/retry.js';
import { openai } from '../../../src/services/openai.js';
import { CHILD_EXEC_ARGV, EXT } from '../../helpers/paths.js';
const mainNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
const child = fork(new URL(`../../helpers/upstream-process${EXT}`, import.meta.url), [JSON.stringify({})], { execArgv: CHILD_EXEC_ARGV });
const { baseURL } = await new Promise<any>((r) => child.once('message', r));
const which = process.argv[2] ?? 'both';
const hello = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const kind = (process.argv[3] ?? 'inline') as 'inline' | 'piscina';
const mws = process.argv[4] === 'bare' ? [] : [policyGate(), metrics(), circuitBreaker(), retry()];
const ex = new Executor({ pool: { kind, threads: 2 }, concurrency: 20, queueCapacity: 10_000, limits: { requests: { limit: 1_000_000, windowMs: 1000 } }, middleware: mws });
const svc = openai.chat({ baseURL, model: 'm' });
const dispatcher = new Agent({ keepAliveTimeout: 4000 });
const body = JSON.stringify({ ...hello, model: 'm' });
const url = `${baseURL}/chat/completions`;
const sides: Record<string, () => Promise<unknown>> = {
  callpool: () => ex.call(svc, hello, CallContext.new('bench', { capabilities: ['net.out:127.0.0.1'] })),
  undici: async () => (await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher })).body.json(),
};
async function round(fn: () => Promise<unknown>, n: number) {
  let next = 0; const c0 = mainNs(); const t0 = performance.now();
  await Promise.all(Array.from({ length: 20 }, async () => { while (next++ < n) await fn(); }));
  return { cpuUs: (mainNs() - c0) / n / 1000, rate: n / ((performance.now() - t0) / 1000) };
}
const names = which === 'both' ? ['callpool', 'undici'] : [which];
for (const n of names) await round(sides[n]!, 2000);
const res: Record<string, { cpuUs: number; rate: number }[]> = {};
for (let r = 0; r < 6; r++) for (const n of names) (res[n] ??= []).push(await round(sides[n]!, 3000));
for (const n of names) { const c = res[n]!.map((x) => x.cpuUs).sort((a, b) => a - b); const q = res[n]!.map((x) => x.rate).sort((a, b) => a - b); console.log(n, 'main CPU µs/call median', c[3]!.toFixed(1), 'min', c[0]!.toFixed(1), '| rate median', q[3]!.toFixed(0)); }
await ex.close(); await dispatcher.destroy(); child.send('close');
