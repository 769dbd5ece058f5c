import test from 'ava';
import { LoopDelay } from '../../src/harness/loop-delay.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Serial: it measures the process's event loop.
test.serial('LoopDelay reads an idle loop as about 0 ms late, not as the 10 ms its timer is due, and a held loop by how long it was held', async (t) => {
  const d = new LoopDelay();
  t.deepEqual(d.summary(), { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  t.is(d.maxMs, 0);
  d.enable();
  await sleep(300);
  const idle = d.summary();
  t.log(`idle: p50 ${idle.p50} ms, max ${idle.max} ms over ${idle.count} ticks`);
  t.true(idle.count >= 10, `${idle.count} ticks`);
  // Node records each whole interval (10 ms and more for an idle loop); lateness is what is past it.
  t.true(idle.p50 < 5, `idle p50 ${idle.p50} ms`);
  const start = performance.now();
  while (performance.now() - start < 60);
  await sleep(30);
  d.disable();
  t.log(`after a 60 ms hold: max ${d.maxMs} ms`);
  t.true(d.maxMs >= 45 && d.maxMs < 250, `max ${d.maxMs} ms`);
  t.is(d.summary().max, d.maxMs);
  d.reset();
  t.is(d.maxMs, 0);
});
