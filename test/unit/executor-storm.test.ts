import test from 'ava';
import { CallContext, Executor, defineService, type ServiceCall } from '../../src/index.js';
import { prng } from '../helpers/prng.js';

type Behaviour = { kind: 'ok' | 'fail' | 'hang' | 'sync-throw'; ms: number };

const storm = defineService<Behaviour, string>({
  name: 'storm',
  handler: {
    call: ({ kind, ms }, _ctx, signal) => {
      if (kind === 'sync-throw') throw new Error('sync');
      return new Promise<string>((resolve, reject) => {
        const timer = kind === 'hang' ? undefined : setTimeout(() => (kind === 'ok' ? resolve('ok') : reject(Object.assign(new Error('fail'), { retryable: true }))), ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        }, { once: true });
      });
    },
  },
  estimateTokens: () => 1,
});

async function runStorm(seed: number) {
  const rand = prng(seed);
  const ex = new Executor({
    queueCapacity: 200 + Math.floor(rand() * 400),
    concurrency: 1 + Math.floor(rand() * 30),
    limits: rand() < 0.5 ? { requests: { limit: 200 + Math.floor(rand() * 500), windowMs: 50 }, tokens: { limit: 5000, windowMs: 100 } } : undefined,
    pool: { kind: 'inline' },
  });
  const accepted: ServiceCall<string>[] = [];
  const settledTimes = new Map<string, number>();
  let refused = 0;
  const total = 3000;
  const closeAt = Math.floor(rand() * total * 1.2);
  const drain = rand() < 0.5;
  let closing: Promise<void> | undefined;
  for (let i = 0; i < total; i++) {
    if (i === closeAt) closing = ex.close({ drain, timeoutMs: 2000 });
    const r = rand();
    const behaviour: Behaviour = { kind: r < 0.7 ? 'ok' : r < 0.85 ? 'fail' : r < 0.95 ? 'hang' : 'sync-throw', ms: Math.floor(rand() * 5) };
    const ctx = rand() < 0.4 ? CallContext.withTimeout('storm', 1 + rand() * 40) : CallContext.new('storm');
    const ac = rand() < 0.2 ? new AbortController() : undefined;
    try {
      // Hanging calls must end somehow: give them an abort or a deadline.
      const signal = behaviour.kind === 'hang' && ctx.deadline === undefined ? AbortSignal.timeout(5 + Math.floor(rand() * 30)) : ac?.signal;
      const call = ex.submit(storm, behaviour, ctx, signal ? { signal } : {});
      accepted.push(call);
      call.result().then(
        () => settledTimes.set(call.id, (settledTimes.get(call.id) ?? 0) + 1),
        () => settledTimes.set(call.id, (settledTimes.get(call.id) ?? 0) + 1),
      );
      if (ac) setTimeout(() => ac.abort(), rand() * 20);
    } catch (err) {
      refused++;
      const code = (err as { code?: string }).code;
      if (code !== 'E_QUEUE_FULL' && code !== 'E_CLOSED') throw err;
    }
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, rand() * 3));
  }
  await (closing ?? ex.close({ drain, timeoutMs: 2000 }));
  await Promise.allSettled(accepted.map((c) => c.result()));
  await new Promise((r) => setImmediate(r));
  return { ex, accepted, settledTimes, refused, total };
}

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`storm (seed ${seed}): every accepted call settles exactly once, counters add up, nothing left behind`, async (t) => {
    const { ex, accepted, settledTimes, refused, total } = await runStorm(seed);
    const s = ex.stats();
    t.log(`completed ${s.completed}, failed ${s.failed} (deadline ${s.deadlineExceeded}), cancelled ${s.cancelled}, refused ${refused}`);
    t.true(s.completed > 0 && s.failed > 0 && s.cancelled > 0, 'the storm exercised every outcome');
    t.is(accepted.length + refused, total);
    t.is(s.accepted, accepted.length);
    t.is(s.rejected.queueFull + s.rejected.closed, refused);
    t.is(s.completed + s.failed + s.cancelled, s.accepted);
    t.is(s.queued, 0);
    t.is(s.running, 0);
    t.true(accepted.every((c) => c.settled && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(c.status)));
    t.is(settledTimes.size, accepted.length);
    t.true([...settledTimes.values()].every((n) => n === 1));
    t.is(accepted.filter((c) => c.status === 'COMPLETED').length, s.completed);
    t.is(accepted.filter((c) => c.status === 'CANCELLED').length, s.cancelled);
  });
}
