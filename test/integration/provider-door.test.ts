import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { CallContext } from '../../src/core/call-context.js';
import type { Service } from '../../src/core/service.js';
import { Executor } from '../../src/executor/executor.js';
import { UpstreamThread } from '../../src/harness/upstream-thread.js';
import { MemoryLimiter } from '../../src/limits/memory-limiter.js';
import type { PoolKind } from '../../src/pool/types.js';
import { openai } from '../../src/services/openai.js';
import { figures, Recording, recordAdmissions, straddle, type Admission, type RunFigures } from '../helpers/door.js';

// The provider-door scenarios that start from a cold executor (the others: redis-sent,
// provider-limits, soak-cli). A fresh executor, its pool readied before the first admission,
// the first call among the arrivals. The upstream runs on a thread of its own, as in a soak.
// The limiter's promise is judged strictly at its own send instants; the upstream's arrival log
// is judged on windows shortened by that thread's own longest stall in the run (+10 ms, at most
// half a window): its stamps are late by as much as it was kept from running.
const hello = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const ctx = () => CallContext.new('door', { capabilities: ['net.out:127.0.0.1'], timeoutMs: 30_000 });

async function scenario(pool: PoolKind, limit: number, windowMs: number, drive: (call: () => Promise<unknown>) => Promise<void>): Promise<RunFigures & { rateWaits: number }> {
  const up = await UpstreamThread.start({ routes: { chat: { latency: { kind: 'fixed', ms: 5 } } } });
  const rec = new Recording(new MemoryLimiter([{ limit, windowMs }], []));
  const ex = new Executor({ pool: pool === 'inline' ? { kind: 'inline' } : { kind: pool, threads: 2 }, concurrency: 64, limits: rec as never });
  const admissions: Admission[] = [];
  recordAdmissions(ex, admissions);
  const chat = openai.chat({ baseURL: up.baseURL, model: 'm' });
  try {
    await ex.ready([chat as unknown as Service]);
    await drive(() => ex.call(chat, hello, ctx()));
    const a = await up.collect();
    return { ...figures(a.times, admissions, rec.sends, limit, windowMs, a.loopDelayMaxMs, 0, a.stats.statuses['429'] ?? 0), rateWaits: ex.stats().rateLimitedWaits };
  } finally {
    await ex.close();
    await up.close();
  }
}

/** Whether this process may lower a thread's nice value (tried on this thread, then put back). */
function mayRaisePriority(): boolean {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  const before = getPriority(tid);
  try {
    setPriority(tid, before - 1);
  } catch {
    return false;
  }
  setPriority(tid, before);
  return true;
}

/** Whether this process may run a thread real-time (`chrt` present and SCHED_FIFO permitted). */
function mayRunRealtime(): boolean {
  return spawnSync('chrt', ['--fifo', '1', 'true']).status === 0;
}

test.serial('the observer thread runs real-time and at nice -10 where the OS permits it, nice alone when asked to, and says which priority it had', async (t) => {
  const asked = await UpstreamThread.start({}, { realtime: true });
  const plain = await UpstreamThread.start({}, { realtime: false });
  try {
    const rt = await asked.collect();
    const nonRt = await plain.collect();
    if (process.platform !== 'linux') return t.is(rt.nice, null);
    for (const { nice } of [rt, nonRt]) t.is(nice, mayRaisePriority() ? -10 : getPriority(), `nice ${nice}`);
    t.is(rt.realtime, mayRunRealtime(), `real-time ${rt.realtime}`);
    t.false(nonRt.realtime);
  } finally {
    await Promise.all([asked.close(), plain.close()]);
  }
});

test.serial('the observer is real-time by default unless CALLPOOL_OBSERVER_REALTIME=0 (this suite sets it: test files run side by side)', async (t) => {
  t.is(process.env['CALLPOOL_OBSERVER_REALTIME'], '0');
  const up = await UpstreamThread.start({});
  try {
    t.false((await up.collect()).realtime);
  } finally {
    await up.close();
  }
  delete process.env['CALLPOOL_OBSERVER_REALTIME'];
  try {
    const rt = await UpstreamThread.start({});
    try {
      t.is((await rt.collect()).realtime, process.platform === 'linux' ? mayRunRealtime() : null);
    } finally {
      await rt.close();
    }
  } finally {
    process.env['CALLPOOL_OBSERVER_REALTIME'] = '0';
  }
});

test.serial('the observer in a process of its own (isolation "process", or CALLPOOL_OBSERVER=process): another pid, arrivals on the machine clock between the send and the answer, and close() ends the process', async (t) => {
  const isolated = await UpstreamThread.start({}, { isolation: 'process' });
  let closed = false;
  try {
    t.is(isolated.isolation, 'process');
    t.not(isolated.pid, process.pid);
    t.notThrows(() => process.kill(isolated.pid, 0), 'the process is there');
    const before = performance.now();
    const res = await fetch(`${isolated.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hello) });
    t.is(res.status, 200);
    await res.text();
    const after = performance.now();
    const a = await isolated.collect();
    t.is(a.isolation, 'process');
    t.is(a.times.length, 1, 'the warm-up requests are forgotten; one arrival');
    t.true(a.times[0]! >= before && a.times[0]! <= after, `arrival ${a.times[0]! - before} ms after the send, answer at ${after - before} ms`);
    await isolated.close();
    closed = true;
    t.throws(() => process.kill(isolated.pid, 0), { code: 'ESRCH' }, 'the process has exited');
  } finally {
    if (!closed) await isolated.close();
  }
  const prior = process.env['CALLPOOL_OBSERVER'];
  process.env['CALLPOOL_OBSERVER'] = 'process';
  try {
    const byEnv = await UpstreamThread.start({});
    t.is(byEnv.isolation, 'process');
    t.not(byEnv.pid, process.pid);
    await byEnv.close();
  } finally {
    if (prior === undefined) delete process.env['CALLPOOL_OBSERVER'];
    else process.env['CALLPOOL_OBSERVER'] = prior;
  }
  const thread = await UpstreamThread.start({});
  t.is(thread.isolation, 'thread');
  t.is(thread.pid, process.pid);
  await thread.close();
});

function judge(t: import('ava').ExecutionContext, f: RunFigures & { rateWaits: number }, limit: number): void {
  t.log(`sends: most ${f.sendsMax} in a window, utilisation ${f.sendsUtilisation?.toFixed(1)}%; arrivals: most ${f.strict} strictly, utilisation ${f.utilisation?.toFixed(1)}%; upstream thread stalled ${f.stallMs.toFixed(1)} ms`);
  t.true(f.sendsMax <= limit, `${f.sendsMax} sends in one rolling window`);
  t.true(f.fitsStall, `the arrivals (${f.strict} strictly) do not fit ${limit} even in windows shortened by the upstream's stall`);
  t.true(f.rateWaits > 0, 'the limit was the bottleneck');
  // At the send instants the observer's stalls do not count: each next batch leaves about when
  // the window frees (measured 97-100% on a loaded machine; windows 10% long would show 91%).
  t.true(f.sendsUtilisation !== null && f.sendsUtilisation >= 93, `utilisation ${f.sendsUtilisation}%`);
}

test.serial('[piscina] 40 chat calls right after start, 10 per 500 ms: sends never over the limit, arrivals within the observer\'s stall, the limit used', async (t) => {
  const f = await scenario('piscina', 10, 500, async (call) => {
    await call();
    await Promise.all(Array.from({ length: 40 }, call));
  });
  judge(t, f, 10);
});

for (const pool of ['piscina', 'inline'] as PoolKind[]) {
  test.serial(`[${pool}] straddle, 10 per 1000 ms (batches just before and after window edges): sends never over the limit, arrivals within the observer's stall, the limit used`, async (t) => {
    const f = await scenario(pool, 10, 1000, (call) => straddle(10, 1000, call));
    judge(t, f, 10);
  });
}
