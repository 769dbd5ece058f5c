import test from 'ava';
import { DeadlineExceededError, HookRegistry, HookType, hooks, timeout, type Invocation } from '../../src/index.js';
import { installClock, settle, track, type FakeClock } from '../helpers/fake-clock.js';
import { fakeInv } from '../helpers/middleware-fakes.js';

// Hook timeouts and the timeout middleware, timed against their values: exactly on a fake
// clock, and once each in real time with a bound that binds (measured against a plain timer
// of the same length started at the same moment). Public API only.

let clock: FakeClock | undefined;
test.afterEach.always(() => {
  clock?.uninstall();
  clock = undefined;
});

async function advance(ms: number): Promise<void> {
  clock!.tick(ms);
  await settle();
}

const event = { type: HookType.PRE_CALL, service: 's', callId: 'c' } as const;
const never = () => new Promise<never>(() => {});

test.serial('a hook is abandoned at its own timeout, not the registry default', async (t) => {
  clock = installClock();
  const reg = new HookRegistry({ defaultTimeoutMs: 1000 });
  reg.register(HookType.PRE_CALL, never, { timeout: 50 });
  const emitted = track(reg.emit(HookType.PRE_CALL, event));
  await advance(49);
  t.false(emitted.done, 'still running 1 ms before its timeout');
  await advance(1);
  t.true(emitted.done, 'abandoned at 50 ms');
  t.deepEqual(emitted.value!.map((o) => o.status), ['timeout']);
});

test.serial('the registry default applies to a hook without its own timeout; each hook keeps its own', async (t) => {
  clock = installClock();
  const reg = new HookRegistry({ defaultTimeoutMs: 300 });
  const ended: string[] = [];
  reg.register(HookType.PRE_CALL, never);
  reg.register(HookType.PRE_CALL, never, { timeout: 120 });
  reg.register(HookType.PRE_CALL, () => new Promise((r) => setTimeout(() => r(ended.push('fast')), 100)), { timeout: 500 });
  const emitted = track(reg.emit(HookType.PRE_CALL, event));
  await advance(299);
  t.false(emitted.done);
  t.deepEqual(ended, ['fast']);
  await advance(1);
  t.true(emitted.done);
  t.deepEqual(emitted.value!.map((o) => o.status), ['timeout', 'timeout', 'ok']);
  // The default when the registry names none: one second.
  const plain = new HookRegistry();
  plain.register(HookType.PRE_CALL, never);
  const p = track(plain.emit(HookType.PRE_CALL, event));
  await advance(999);
  t.false(p.done);
  await advance(1);
  t.true(p.done);
});

test.serial('a hanging POST_CALL hook delays the call by exactly its timeout', async (t) => {
  clock = installClock();
  const reg = new HookRegistry();
  reg.register(HookType.POST_CALL, never, { timeout: 75 });
  const result = track(hooks(reg).call!(fakeInv(), async () => 'v'));
  await settle();
  await advance(74);
  t.false(result.done);
  await advance(1);
  t.is(result.value, 'v');
});

test.serial('timeout(): an attempt fails at exactly its limit, and its signal aborts then', async (t) => {
  clock = installClock();
  let signal: AbortSignal | undefined;
  const next = (inv: Invocation) => {
    signal = inv.signal;
    return never();
  };
  const attempt = track(timeout(200).call!(fakeInv(), next));
  await advance(199);
  t.false(attempt.done);
  t.false(signal!.aborted);
  await advance(1);
  t.true(attempt.error instanceof DeadlineExceededError);
  t.true(signal!.aborted);
});

/** A stream that yields after each of `gaps` (ms, on whatever clock is installed). */
function paced(gaps: number[]) {
  return async function* (): AsyncGenerator<number> {
    for (let i = 0; i < gaps.length; i++) {
      await new Promise((r) => setTimeout(r, gaps[i]));
      yield i;
    }
  };
}

/** Pulls a stream, recording its chunks and how it ended. */
function drain(source: AsyncIterable<unknown>) {
  const s = { chunks: [] as unknown[], done: false, error: undefined as unknown };
  void (async () => {
    try {
      for await (const c of source) s.chunks.push(c);
    } catch (err) {
      s.error = err;
    }
    s.done = true;
  })();
  return s;
}

test.serial('timeout() on a stream bounds each wait for a chunk: 20 gaps of 99 ms pass a 100 ms limit', async (t) => {
  clock = installClock();
  const s = drain(timeout(100).stream!(fakeInv({ kind: 'stream' }), paced(Array(20).fill(99)) as never));
  for (let i = 0; i < 20; i++) await advance(99);
  t.true(s.done);
  t.is(s.error, undefined, 'a long healthy stream (1980 ms) is not cut by a 100 ms limit');
  t.is(s.chunks.length, 20);
});

test.serial('timeout() on a stream fails a wait at exactly its limit, after the chunks already given', async (t) => {
  clock = installClock();
  const s = drain(timeout(100).stream!(fakeInv({ kind: 'stream' }), paced([50, 50, 500]) as never));
  await advance(50);
  await advance(50);
  t.deepEqual(s.chunks, [0, 1]);
  await advance(99);
  t.false(s.done, 'the third wait has 1 ms left');
  await advance(1);
  t.true(s.done);
  t.true(s.error instanceof DeadlineExceededError);
  t.deepEqual(s.chunks, [0, 1]);
});

test.serial('timeout() on a stream: the first chunk is bounded too', async (t) => {
  clock = installClock();
  const s = drain(timeout(100).stream!(fakeInv({ kind: 'stream' }), paced([100]) as never));
  await advance(99);
  t.false(s.done);
  await advance(1);
  t.true(s.error instanceof DeadlineExceededError);
});

/** Real time: ms from now until `p` settles, and the lateness of a plain timer of `ms` started at the same moment. */
/** Times `run` from the instant it is called (its timers start inside it) against a plain timer of `ms`. */
async function timedAgainstControl(run: () => Promise<unknown>, ms: number): Promise<{ elapsed: number; controlLate: number }> {
  const start = performance.now();
  let controlLate = 0;
  const control = new Promise<void>((r) => setTimeout(() => {
    controlLate = performance.now() - start - ms;
    r();
  }, ms));
  await run().catch(() => undefined);
  const elapsed = performance.now() - start;
  await control;
  return { elapsed, controlLate };
}

// Serial: its timing is checked against real timers, with no other test of the process running.
test.serial('real time: a 150 ms hook timeout ends the emit at 150 ms, as late as a plain 150 ms timer at most (+25 ms)', async (t) => {
  const reg = new HookRegistry({ defaultTimeoutMs: 5000 });
  reg.register(HookType.PRE_CALL, never, { timeout: 150 });
  const { elapsed, controlLate } = await timedAgainstControl(() => reg.emit(HookType.PRE_CALL, event), 150);
  t.log(`emit returned after ${elapsed.toFixed(1)} ms; the control timer was ${controlLate.toFixed(1)} ms late`);
  t.true(elapsed >= 149, `${elapsed} ms`);
  t.true(elapsed <= 150 + Math.max(controlLate, 0) + 25, `${elapsed} ms`);
});

// Serial: its timing is checked against real timers, with no other test of the process running.
test.serial('real time: a stream stalled after steady chunks fails one limit after its last chunk, not at a whole-stream budget', async (t) => {
  // Chunks 40 ms apart under a 250 ms limit: a timer late by up to 200 ms on a loaded machine
  // (test:fast runs this beside other work) still passes; 480 ms of chunks is two limits.
  let lastChunkAt = 0;
  async function* steadyThenStall(inv: Invocation) {
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 40));
      lastChunkAt = performance.now();
      yield i;
    }
    await new Promise((_, reject) => inv.signal.addEventListener('abort', () => reject(inv.signal.reason), { once: true }));
  }
  const got: unknown[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const c of timeout(250).stream!(fakeInv({ kind: 'stream' }), steadyThenStall as never)) got.push(c);
  }, { instanceOf: DeadlineExceededError });
  const after = performance.now() - lastChunkAt;
  t.deepEqual(got, Array.from({ length: 12 }, (_, i) => i), '480 ms of chunks 40 ms apart pass a 250 ms limit');
  t.is(err!.context?.['timeoutMs'], 250);
  t.true(after >= 249 && after < 450, `failed ${after.toFixed(1)} ms after the last chunk`);
});
