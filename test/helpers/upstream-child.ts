/**
 * The mock upstream in a process of its own, so its arrival stamps are not delayed by the
 * test runner's event loop. Sends `{ url }` once listening; on 'collect' sends the arrivals
 * (epoch ms) of the json route and the longest stall of its event loop (`stallMs`), after 'clear' forgets those so far; on 'close' exits.
 * Run with `node --import tsx` through `child_process.fork`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { toMachine } from '../../src/core/clock.js';
import { startMockUpstream } from '../../src/harness/mock-upstream.js';

const up = await startMockUpstream({ routes: { json: { latency: { kind: 'fixed', ms: 2 } } } });
// How late this process's stamps can be: the longest stall of its event loop since 'clear'.
let loop = monitorEventLoopDelay({ resolution: 1 });
process.send!({ url: up.url });
process.on('message', (m: string) => {
  if (m === 'clear') {
    up.arrivals.clear();
    loop.disable();
    loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    process.send!({ cleared: true });
  } else if (m === 'collect') {
    loop.disable();
    process.send!({ arrivals: [...up.arrivals.times('json')].map(toMachine), stallMs: loop.max / 1e6 });
  } else if (m === 'close') {
    void up.close().then(() => process.exit(0));
  }
});
