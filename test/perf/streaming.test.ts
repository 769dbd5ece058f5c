/**
 * The streaming category of the performance suite, run through the executor on piscina and on
 * inline: time to first byte, sustained small chunks, a large payload, memory that does not
 * scale with stream size (slow consumer), concurrent streams, cancellation and a mid-stream
 * failure. Plus: CPU-heavy handlers stall the main thread on inline but not on piscina.
 * Bounds are generous (a busy 2-core machine); `npm run bench` reports the real figures.
 */
import test from 'ava';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CallContext, Executor } from '../../src/index.js';
import type { PoolKind } from '../../src/pool/types.js';
import { changed, counters, fixtureService } from '../helpers/pool-fixtures.js';
import { heapAfterGc } from '../helpers/measure.js';

const ctx = CallContext.new('streaming');
const kinds: PoolKind[] = ['piscina', 'inline'];
const CREDIT = 64;
const executors = new Map<PoolKind, Executor>();

test.before(() => {
  for (const kind of kinds) {
    executors.set(kind, new Executor({ concurrency: 32, queueCapacity: 1000, pool: { kind, threads: 2, streamCredit: CREDIT } }));
  }
});
test.after.always(async () => {
  await Promise.all([...executors.values()].map((ex) => ex.close()));
});


function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

for (const kind of kinds) {
  test.serial(`${kind}: time to first chunk of a stream is within a few times a call's round trip`, async (t) => {
    const ex = executors.get(kind)!;
    const timed = fixtureService('stream-timed');
    const echo = fixtureService('echo');
    for await (const _ of ex.stream(timed, { n: 3, everyMs: 1 }, ctx)); // loads the modules
    await ex.call(echo, 0, ctx);
    // The first chunk comes at once (the waits are between chunks). Interleaved with the
    // control, so both see the same load: a no-op call's round trip on the same pool.
    const ttfb: number[] = [];
    const control: number[] = [];
    for (let i = 0; i < 9; i++) {
      let start = performance.now();
      let first = -1;
      for await (const _ of ex.stream(timed, { n: 5, everyMs: 2 }, ctx)) if (first < 0) first = performance.now() - start;
      ttfb.push(first);
      start = performance.now();
      await ex.call(echo, i, ctx);
      control.push(performance.now() - start);
    }
    t.log(`${kind}: TTFB median ${median(ttfb).toFixed(2)} ms, max ${Math.max(...ttfb).toFixed(2)} ms; control call median ${median(control).toFixed(2)} ms`);
    // A stream opens its own channel, so it costs a little more than a call; 3x and 1 ms bind.
    t.true(median(ttfb) < 3 * median(control) + 1, `median TTFB ${median(ttfb).toFixed(2)} ms, control ${median(control).toFixed(2)} ms`);
  });

  test.serial(`${kind}: 10k small chunks arrive, none lost, in order, each far cheaper than a call`, async (t) => {
    const ex = executors.get(kind)!;
    const echo = fixtureService('echo');
    // Interleaved rounds: 10k chunks of one stream against 500 sequential no-op calls.
    const chunkRates: number[] = [];
    const callRates: number[] = [];
    for (let round = 0; round < 3; round++) {
      let start = performance.now();
      let expected = 0;
      let inOrder = true;
      for await (const c of ex.stream(fixtureService('stream-counted'), { n: 10_000 }, ctx)) {
        if (c !== expected) inOrder = false;
        expected++;
      }
      chunkRates.push(10_000 / ((performance.now() - start) / 1000));
      t.is(expected, 10_000);
      t.true(inOrder);
      start = performance.now();
      for (let i = 0; i < 500; i++) await ex.call(echo, i, ctx);
      callRates.push(500 / ((performance.now() - start) / 1000));
    }
    const chunks = median(chunkRates);
    const calls = median(callRates);
    t.log(`${kind}: ${chunks.toFixed(0)} chunks/s against ${calls.toFixed(0)} sequential calls/s`);
    // Chunks travel in batches under credit, calls one round trip each. Measured on a quiet
    // machine: piscina about 20x (530k chunks/s, 25k calls/s), inline about 1-2x.
    const floor = kind === 'inline' ? 0.3 : 5;
    t.true(chunks > floor * calls, `${chunks.toFixed(0)} chunks/s, ${calls.toFixed(0)} calls/s`);
  });

  test.serial(`${kind}: a 1.5 MB payload streams whole`, async (t) => {
    const ex = executors.get(kind)!;
    const chunks: string[] = [];
    for await (const c of ex.stream(fixtureService('stream-large'), { bytes: 1_500_000 }, ctx)) chunks.push(c as string);
    t.is(chunks.length, 2);
    t.is(chunks[0]!.length, 1_500_000);
    t.true(chunks[0]!.startsWith('The quick brown fox'));
    t.is(chunks[1], 'len=1500000');
  });

  test.serial(`${kind}: 50 MB through a slow consumer: heap grows < 10 MB, the producer never runs ahead of its credit`, async (t) => {
    const ex = executors.get(kind)!;
    const size = 16 * 1024;
    const n = Math.ceil((50 * 1024 * 1024) / size);
    const produced = counters(2);
    const base = await heapAfterGc(2);
    let peak = 0;
    let consumed = 0;
    let bytes = 0;
    let ahead = 0;
    for await (const c of ex.stream(fixtureService('stream-counted'), { n, size, produced }, ctx)) {
      consumed++;
      bytes += (c as string).length;
      ahead = Math.max(ahead, Atomics.load(produced, 0) - consumed);
      if (consumed % 16 === 0) await new Promise((r) => setTimeout(r, 1)); // the slow consumer
      if (consumed % 400 === 0) peak = Math.max(peak, (await heapAfterGc(2)) - base);
    }
    t.log(`${kind}: ${(bytes / 1048576).toFixed(1)} MB, peak heap growth ${(peak / 1048576).toFixed(2)} MB, producer ahead by at most ${ahead} chunks`);
    t.is(consumed, n);
    t.is(bytes, n * size);
    t.true(peak < 10 * 1024 * 1024, `heap grew ${peak} bytes`);
    t.true(ahead <= CREDIT + 1, `producer ran ${ahead} chunks ahead`);
  });

  test.serial(`${kind}: 15 concurrent streams each arrive whole and in order`, async (t) => {
    const ex = executors.get(kind)!;
    const counts = await Promise.all(
      Array.from({ length: 15 }, async () => {
        let expected = 0;
        for await (const c of ex.stream(fixtureService('stream-counted'), { n: 2000 }, ctx)) {
          if (c !== expected) return -1;
          expected++;
        }
        return expected;
      }),
    );
    t.deepEqual(counts, Array.from({ length: 15 }, () => 2000));
  });

  test.serial(`${kind}: breaking after 100 chunks stops the producer within a few chunks and frees the slot at once`, async (t) => {
    const ex = new Executor({ concurrency: 4, pool: { kind, threads: 2, streamCredit: 8 } });
    t.teardown(() => ex.close());
    const produced = counters(2);
    let consumed = 0;
    for await (const _ of ex.stream(fixtureService('stream-counted'), { n: 1_000_000, produced }, ctx)) {
      if (++consumed === 100) break;
    }
    t.is(ex.running, 0);
    await changed(produced, 1); // the producer's generator has finished
    const total = Atomics.load(produced, 0);
    t.log(`${kind}: produced ${total} chunks for 100 consumed (credit 8)`);
    t.true(total >= 100);
    t.true(total <= 100 + 2 * 8, `produced ${total}`);
  });

  test.serial(`${kind}: a stream that fails mid-way delivers its chunks, then throws the rebuilt error`, async (t) => {
    const ex = executors.get(kind)!;
    const got: unknown[] = [];
    const err = await t.throwsAsync(async () => {
      for await (const c of ex.stream(fixtureService('stream-fail'), { before: 5 }, ctx)) got.push(c);
    });
    t.deepEqual(got, [0, 1, 2, 3, 4]);
    t.is(err?.name, 'TransportError');
    t.is((err as Error & { code?: string }).code, 'E_TRANSPORT');
    t.is((err as Error & { status?: number }).status, 502);
  });
}

test.serial('CPU-heavy handlers (parse + validate 1 MB) keep the main loop free on piscina, not on inline', async (t) => {
  const heavy = fixtureService('cpu-heavy');
  const p99 = new Map<PoolKind, number[]>([['inline', []], ['piscina', []]]);
  const executors = new Map<PoolKind, Executor>();
  for (const kind of p99.keys()) {
    // One worker thread leaves a core to the main thread on a 2-core machine.
    const ex = new Executor({ concurrency: 4, pool: { kind, threads: 1 } });
    t.teardown(() => ex.close());
    await ex.call(heavy, {}, ctx); // loads the module and builds the body
    executors.set(kind, ex);
  }
  // Alternating rounds, median of each: a burst of load from elsewhere on the machine hits a
  // round, not a whole side.
  for (let round = 0; round < 3; round++) {
    for (const [kind, ex] of executors) {
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      // Responses arrive in bursts (four every 60 ms), as they would from an upstream.
      const results: Promise<unknown>[] = [];
      for (let i = 0; i < 15; i++) {
        for (let j = 0; j < 4; j++) results.push(ex.call(heavy, {}, ctx));
        await new Promise((r) => setTimeout(r, 60));
      }
      const done = await Promise.all(results);
      h.disable();
      t.true(done.every((r) => (r as { bytes: number }).bytes > 1_000_000));
      p99.get(kind)!.push(h.percentile(99) / 1e6);
    }
  }
  const inline = median(p99.get('inline')!);
  const piscina = median(p99.get('piscina')!);
  t.log(`event-loop delay p99 (median of 3 rounds): inline ${inline.toFixed(1)} ms, piscina ${piscina.toFixed(1)} ms`);
  // The main thread still decodes each 1 MB result on piscina (measured 7-8 ms p99 against 11-12 ms
  // inline on a quiet 2-core machine, before and after this round's changes), so the bound is 1.25x.
  t.true(piscina * 1.25 < inline, `piscina ${piscina} ms vs inline ${inline} ms`);
});
