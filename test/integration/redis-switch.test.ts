import { setTimeout as sleep } from 'node:timers/promises';
import { RedisLimiter } from '../../src/limits/redis-limiter.js';
import { maxInWindow } from '../helpers/services.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { redisAvailable, redisTest } from '../helpers/redis-test.js';

// Each process alone stays under the limit across the switch to its local
// limiter and back, whether Redis is frozen (SIGSTOP/SIGCONT) or killed and restarted empty.
// Every test freezes or kills a redis-server of its own. The fail-closed ones run one at a time
// (first, as ava runs serial tests): the utilisation they check needs each restarted Redis to
// answer within its command timeout, which four outages at once on a starved machine did not;
// then the fail-open ones run side by side.
const redis = redisTest();
const LIMIT = 50;
const WINDOW_MS = 1000;
const OFFER_EVERY_MS = 10; // 100/s offered per process, twice the limit
const RUN_MS = 6000;
const OUTAGE_AT_MS = 1500;
const OUTAGE_MS = 2000;

interface Run {
  /** Per process: the instants its admissions were granted (and reported sent). */
  admitted: number[][];
  /** Of those, the ones granted while Redis was out. */
  duringOutage: number[];
}

/**
 * Two processes (two limiters, each with its own connection and mirror) share one key; each
 * offers a request every 10 ms and waits exactly as long as a refusal says. Each admission is
 * reported sent at the instant it was granted, so the instants recorded are the ones counted.
 */
async function drive(s: RedisServer, onUnavailable: 'fail-open' | 'fail-closed', outage: { down: () => Promise<void> | void; up: () => Promise<void> | void }): Promise<Run> {
  const key = `switch-${onUnavailable}-${Math.random().toString(36).slice(2)}`;
  const ls = [0, 1].map(() => new RedisLimiter([{ limit: LIMIT, windowMs: WINDOW_MS }], [], { url: s.url, key, onUnavailable, commandTimeoutMs: 150 }));
  const admitted: number[][] = [[], []];
  let outageFrom = Infinity;
  let outageTo = Infinity;
  const start = performance.now();
  const end = start + RUN_MS;
  const loop = async (l: RedisLimiter, out: number[]) => {
    for (let k = 0; ; k++) {
      const offerAt = start + k * OFFER_EVERY_MS;
      if (offerAt >= end) return;
      if (offerAt > performance.now()) await sleep(offerAt - performance.now());
      while (performance.now() < end) {
        const a = await l.acquire(0);
        if (a.admitted) {
          const at = performance.now();
          out.push(at);
          void l.sent(a.ticket, at);
          break;
        }
        await sleep(Math.max(1, Math.min(a.retryInMs, end - performance.now())));
      }
    }
  };
  const faults = (async () => {
    await sleep(OUTAGE_AT_MS);
    outageFrom = performance.now();
    await outage.down();
    await sleep(OUTAGE_MS);
    await outage.up();
    outageTo = performance.now();
  })();
  await Promise.all([loop(ls[0]!, admitted[0]!), loop(ls[1]!, admitted[1]!), faults]);
  await Promise.all(ls.map((l) => l.close()));
  const duringOutage = admitted.flat().filter((t) => t >= outageFrom && t < outageTo);
  return { admitted, duringOutage };
}

function judge(t: import('ava').ExecutionContext, run: Run, mode: 'fail-open' | 'fail-closed'): void {
  for (const [i, times] of run.admitted.entries()) {
    const worst = maxInWindow(times, WINDOW_MS);
    t.log(`process ${i}: ${times.length} admitted, most in any rolling ${WINDOW_MS} ms: ${worst}`);
    t.true(worst <= LIMIT, `process ${i} admitted ${worst} > ${LIMIT} in one window`);
  }
  const all = run.admitted.flat().sort((a, b) => a - b);
  t.log(`both: most in any window ${maxInWindow(all, WINDOW_MS)}; admitted while Redis was out: ${run.duringOutage.length}`);
  // The run is not vacuous: the shared limit is used outside the outage, and fail-open keeps admitting through it.
  t.true(all.length >= ((RUN_MS - OUTAGE_MS) / WINDOW_MS) * LIMIT * 0.6, `only ${all.length} admitted`);
  if (mode === 'fail-open') t.true(run.duringOutage.length >= LIMIT, `fail-open admitted only ${run.duringOutage.length} during the outage`);
}

for (const mode of ['fail-open', 'fail-closed'] as const) {
  const test = mode === 'fail-closed' ? redis.serial : redis;
  test(`${mode}: Redis frozen (SIGSTOP) and thawed (SIGCONT): each process <= limit in every rolling window across both switches`, async (t) => {
    if (!redisAvailable) return;
    const s = await startRedis();
    t.teardown(() => s.stop());
    const run = await drive(s, mode, { down: () => s.freeze(), up: () => s.thaw() });
    judge(t, run, mode);
  });

  test(`${mode}: Redis killed and restarted empty: each process <= limit in every rolling window across both switches`, async (t) => {
    if (!redisAvailable) return;
    const s = await startRedis();
    t.teardown(() => s.stop());
    const run = await drive(s, mode, { down: () => s.kill(), up: () => s.restart() });
    judge(t, run, mode);
  });
}
