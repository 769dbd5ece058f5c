import { monitorEventLoopDelay } from 'node:perf_hooks';
/**
 * One of several processes sharing a Redis rate limit: waits for the parent's start instant,
 * keeps a steady backlog of calls to the upstream until the end instant, then reports how its
 * calls settled. Run with `node --import tsx` through `child_process.fork`.
 */
import { defineService, Executor } from '../../src/index.js';

interface Go {
  startEpochMs: number;
  durationMs: number;
}

const redisUrl = process.env['REDIS_URL']!;
const upstreamUrl = process.env['UPSTREAM_URL']!;
const key = process.env['LIMIT_KEY']!;
const limit = Number(process.env['LIMIT']);
const windowMs = Number(process.env['WINDOW_MS']);
const backlog = Number(process.env['BACKLOG']);

const upstream = defineService<string, number>({
  name: 'upstream',
  handler: {
    call: async (url, _ctx, signal) => {
      const res = await fetch(url, { signal });
      await res.arrayBuffer();
      return res.status;
    },
  },
});

const ex = new Executor({
  queueCapacity: backlog,
  concurrency: 20,
  limits: { requests: { limit, windowMs }, store: { kind: 'redis', url: redisUrl, key } },
  pool: { kind: 'inline' },
});
const settled = new Map<string, number>();
ex.on('settled', (e) => settled.set(e.callId, (settled.get(e.callId) ?? 0) + 1));

process.once('message', (go: Go) => {
  setTimeout(() => void run(go), Math.max(0, go.startEpochMs - Date.now()));
});
// Before the start, run the same path once under a key of its own (compiles it, loads fetch,
// opens the keep-alive connections), so the first admitted calls reach the upstream as promptly
// as the later ones. These arrivals precede the run.
const warmup = new Executor({
  concurrency: 20,
  limits: { requests: { limit: 1000, windowMs: 1000 }, store: { kind: 'redis', url: redisUrl, key: `${key}-warmup-${process.pid}` } },
  pool: { kind: 'inline' },
});
await Promise.all(Array.from({ length: 40 }, () => warmup.call(upstream, upstreamUrl)));
await warmup.close();
process.send!({ ready: true });

async function run(go: Go): Promise<void> {
  const endEpochMs = go.startEpochMs + go.durationMs;
  const results: Promise<string>[] = [];
  // A closed loop: a steady backlog, topped up as calls settle, so submitting never blocks
  // the event loop long enough to delay the admitted calls.
  const submit = (): void => {
    if (Date.now() >= endEpochMs) return;
    results.push(
      ex.call(upstream, upstreamUrl).then(
        () => (submit(), 'ok'),
        (err: unknown) => String((err as { code?: string }).code),
      ),
    );
  };
  // The longest stall of this event loop bounds how late an admitted call can leave for the upstream.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  for (let i = 0; i < backlog; i++) submit();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endEpochMs - Date.now())));
  loop.disable();
  await ex.close({ drain: false });
  const outcomes = await Promise.all(results);
  const count = (what: string) => outcomes.filter((o) => o === what).length;
  process.send!(
    {
      submitted: outcomes.length,
      ok: count('ok'),
      cancelled: count('E_CANCELLED'),
      other: outcomes.length - count('ok') - count('E_CANCELLED'),
      settled: settled.size,
      settledTwice: [...settled.values()].filter((n) => n > 1).length,
      stallMs: loop.max / 1e6,
    },
    () => process.exit(0),
  );
}
