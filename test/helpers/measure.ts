/**
 * Heap used after `rounds` full GCs, each followed by a turn of the event loop so that
 * finalizers and weak callbacks run. Needs `node --expose-gc` (the test and bench scripts pass it).
 */
export async function heapAfterGc(rounds = 3): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('heap figures need node --expose-gc');
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

/**
 * Runs `a` then `b` in even rounds and `b` then `a` in odd ones, so drift and whatever the
 * first leaves behind do not always fall on the same side; returns `[a's result, b's]`.
 */
export async function alternating<T>(round: number, a: () => Promise<T>, b: () => Promise<T>): Promise<[T, T]> {
  if (round % 2 === 0) {
    const x = await a();
    return [x, await b()];
  }
  const y = await b();
  return [await a(), y];
}

/** Median ops/s of `fn` over `runs` timed rounds of `iterations` each (after one warm-up round). */
export function opsPerSecond(fn: () => unknown, iterations: number, runs = 5): { median: number; min: number; max: number; samples: number[] } {
  let sink: unknown;
  for (let i = 0; i < iterations; i++) sink = fn();
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn();
    const ns = Number(process.hrtime.bigint() - start);
    samples.push(iterations / (ns / 1e9));
  }
  if (sink === Symbol.for('never')) console.log(sink);
  return summarize(samples);
}

export function summarize(samples: number[]): { median: number; min: number; max: number; samples: number[] } {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)!, samples };
}

/**
 * Times `a` and `b` in alternating rounds (so load on a busy machine hits both alike) and
 * returns each one's median ops/s and the median of the per-round ratios a/b.
 */
export function compareOps(a: () => unknown, b: () => unknown, iterations: number, rounds = 7) {
  const ra: number[] = [];
  const rb: number[] = [];
  const ratios: number[] = [];
  opsPerSecond(a, iterations, 1);
  opsPerSecond(b, iterations, 1);
  for (let r = 0; r < rounds; r++) {
    const x = opsPerSecond(a, iterations, 1).median;
    const y = opsPerSecond(b, iterations, 1).median;
    ra.push(x);
    rb.push(y);
    ratios.push(x / y);
  }
  return { a: summarize(ra), b: summarize(rb), ratio: summarize(ratios) };
}
