import type { Latency } from './mock-options.js';

/** A small seeded generator (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller). */
function gaussian(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** One latency sample in ms (never negative). */
export function sampleLatency(latency: Latency | undefined, random: () => number): number {
  if (latency === undefined) return 0;
  switch (latency.kind) {
    case 'fixed':
      return latency.ms;
    case 'uniform':
      return latency.minMs + random() * Math.max(0, latency.maxMs - latency.minMs);
    case 'normal':
      return Math.max(0, latency.meanMs + latency.stdMs * gaussian(random));
    case 'lognormal':
      return latency.medianMs * Math.exp(latency.sigma * gaussian(random));
  }
}
