/**
 * The HTTP pipeline's latency category of the performance suite: what the executor, its
 * middleware stack and a pool add to one chat call over the same request made directly with
 * node-fetch, against the same embedded upstream, measured in alternating blocks so both sides
 * see the same machine load. `npm run bench -- http` reports the figures against undici.
 * A measurement: `npm test` runs it after the rest of the suite, one perf file at a time
 * (ava.perf.config.js); `test:fast` leaves it out. Beside other test files on two cores, a
 * thread hop waits for a core.
 */
import test from 'ava';
import fetch from 'node-fetch';
import http from 'node:http';
import { CallContext } from '../../src/core/call-context.js';
import { Executor } from '../../src/executor/executor.js';
import { circuitBreaker } from '../../src/middleware/circuit-breaker.js';
import { metrics } from '../../src/middleware/metrics.js';
import { policyGate } from '../../src/middleware/policy-gate.js';
import { retry } from '../../src/middleware/retry.js';
import { startMockUpstream } from '../../src/harness/mock-upstream.js';
import type { PoolKind } from '../../src/pool/types.js';
import { openai } from '../../src/services/openai.js';

const KINDS: PoolKind[] = ['inline', 'piscina'];
const hello = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const ctx = () => CallContext.new('it', { capabilities: ['net.out:127.0.0.1'] });

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

for (const kind of KINDS) {
  test.serial(`[${kind}] full pipeline latency overhead over direct node-fetch, same upstream, one run`, async (t) => {
    const up = await startMockUpstream();
    const ex = new Executor({
      pool: { kind, threads: 2 },
      concurrency: 20,
      limits: { requests: { limit: 1_000_000, windowMs: 1000 } },
      middleware: [policyGate(), metrics(), circuitBreaker(), retry()],
    });
    t.teardown(async () => {
      await ex.close();
      await up.close();
    });
    const svc = openai.chat({ baseURL: up.baseURL, model: 'm' });
    const agent = new http.Agent({ keepAlive: true });
    t.teardown(() => agent.destroy());
    const body = JSON.stringify({ ...hello, model: 'm' });
    const direct = async () => {
      const res = await fetch(`${up.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, agent });
      return res.json();
    };
    const pipeline = () => ex.call(svc, hello, ctx());
    for (let i = 0; i < 100; i++) {
      await direct();
      await pipeline();
    }
    const d: number[] = [];
    const p: number[] = [];
    // Blocks side by side, so both see the same machine load.
    for (let round = 0; round < 10; round++) {
      for (const [fn, out] of [[direct, d], [pipeline, p]] as const) {
        for (let i = 0; i < 30; i++) {
          const t0 = performance.now();
          await fn();
          out.push(performance.now() - t0);
        }
      }
    }
    const added = p50(p) - p50(d);
    t.log(`p50 direct ${p50(d).toFixed(3)} ms, pipeline ${p50(p).toFixed(3)} ms, added ${added.toFixed(3)} ms`);
    // Measured 0.1-0.35 ms added on a quiet machine (the bench holds the 0.5 ms target). Judged
    // against the direct call measured in the same rounds: no more than its own latency, 1 ms at least.
    t.true(added < Math.max(1, p50(d)), `added ${added.toFixed(3)} ms; direct p50 ${p50(d).toFixed(3)} ms`);
  });
}
