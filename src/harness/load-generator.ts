import type { LoadSpec } from './fixture.js';
import { seededRandom } from './mock-random.js';

export type WorkKind = 'call' | 'stream' | 'embeddings';
export const WORK_KINDS: readonly WorkKind[] = ['call', 'stream', 'embeddings'];

export interface PlannedCall {
  /** When to offer it, ms after the load starts. */
  atMs: number;
  kind: WorkKind;
}

/**
 * The seeded, open-loop schedule of a fixture's load: a base rate (evenly spaced or Poisson),
 * optionally ramping linearly to another rate, plus bursts of calls offered at once, each call
 * a call, a stream or an embeddings call by the mix's weights. The schedule never depends on
 * how fast answers come back, so a slow system sees its queue grow, as in production.
 */
export class LoadPlan {
  readonly durationMs: number;
  readonly maxCalls: number;
  readonly #random: () => number;
  readonly #weights: number[];
  readonly #weightSum: number;
  #steadyAt = 0;
  #nextBurst: number;
  #burstLeft = 0;
  #offered = 0;

  constructor(readonly load: LoadSpec, seed: number, durationS?: number) {
    const d = durationS ?? load.durationS;
    this.durationMs = d === undefined ? Infinity : d * 1000;
    this.maxCalls = load.calls ?? Infinity;
    this.#random = seededRandom(seed * 7919 + 17);
    const mix = load.mix ?? { call: 1 };
    this.#weights = WORK_KINDS.map((k) => mix[k] ?? 0);
    this.#weightSum = this.#weights.reduce((a, b) => a + b, 0);
    // Evenly spaced calls start at once; Poisson ones after a first random gap.
    this.#steadyAt = load.arrivals !== 'poisson' && this.rateAt(0) > 0 ? 0 : this.#gap(0);
    this.#nextBurst = load.bursts === undefined ? Infinity : (load.bursts.startS ?? load.bursts.everyS) * 1000;
  }

  /** The offered rate (calls/s) at `tMs`, bursts aside. */
  rateAt(tMs: number): number {
    const { rate, ramp } = this.load;
    if (ramp === undefined) return rate;
    const start = (ramp.startS ?? 0) * 1000;
    const over = ramp.overS * 1000;
    if (tMs <= start) return rate;
    if (tMs >= start + over) return ramp.toRate;
    return rate + ((ramp.toRate - rate) * (tMs - start)) / over;
  }

  /** Calls the plan will offer in all (for progress), when it can be known up front. */
  expectedCalls(): number {
    if (!Number.isFinite(this.durationMs)) return this.maxCalls;
    let n = 0;
    const step = 10;
    for (let t = 0; t < this.durationMs; t += step) n += (this.rateAt(t) * Math.min(step, this.durationMs - t)) / 1000;
    const b = this.load.bursts;
    if (b !== undefined) {
      for (let t = (b.startS ?? b.everyS) * 1000; t < this.durationMs; t += b.everyS * 1000) n += b.calls;
    }
    return Math.min(this.maxCalls, Math.round(n));
  }

  /** The next call, or undefined when the plan is over. */
  next(): PlannedCall | undefined {
    if (this.#offered >= this.maxCalls) return undefined;
    let atMs: number;
    if (this.#burstLeft === 0 && this.#nextBurst <= this.#steadyAt && this.#nextBurst < this.durationMs) {
      this.#burstLeft = this.load.bursts!.calls;
    }
    if (this.#burstLeft > 0) {
      atMs = this.#nextBurst;
      if (--this.#burstLeft === 0) this.#nextBurst += this.load.bursts!.everyS * 1000;
    } else {
      atMs = this.#steadyAt;
      if (!(atMs < this.durationMs)) return undefined;
      this.#steadyAt = this.#gap(atMs);
    }
    this.#offered++;
    return { atMs, kind: this.#kind() };
  }

  /** When the steady stream's call after `t` is due: where the rate's integral from `t` reaches one call. */
  #gap(t: number): number {
    const unit = this.load.arrivals === 'poisson' ? -Math.log(1 - this.#random()) : 1;
    if (this.load.ramp === undefined) return this.load.rate > 0 ? t + (unit / this.load.rate) * 1000 : Infinity;
    const step = 10;
    const rampEnd = ((this.load.ramp.startS ?? 0) + this.load.ramp.overS) * 1000;
    let at = t;
    let acc = 0;
    while (at < this.durationMs) {
      const r = this.rateAt(at + step / 2);
      if (r <= 0 && at >= rampEnd) return Infinity;
      const add = (r * step) / 1000;
      if (acc + add >= unit) return at + ((unit - acc) / r) * 1000;
      acc += add;
      at += step;
    }
    return Infinity;
  }

  #kind(): WorkKind {
    let x = this.#random() * this.#weightSum;
    for (let i = 0; i < WORK_KINDS.length; i++) {
      x -= this.#weights[i]!;
      if (x < 0) return WORK_KINDS[i]!;
    }
    return 'call';
  }
}

/**
 * Offers a plan's calls on time: one timer for the next due instant; whatever is due when it
 * fires (timers are late on a busy loop) is offered at once, so lateness never lowers the
 * offered rate. `offer` gets how late each call was (ms).
 */
export function drive(plan: LoadPlan, clock: () => number, offer: (kind: WorkKind, lateMs: number) => void, signal?: AbortSignal): Promise<void> {
  const t0 = clock();
  return new Promise((resolve) => {
    let pending = plan.next();
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener('abort', stop, { once: true });
    const tick = () => {
      const elapsed = clock() - t0;
      while (pending !== undefined && pending.atMs <= elapsed) {
        offer(pending.kind, elapsed - pending.atMs);
        pending = plan.next();
      }
      if (pending === undefined || signal?.aborted) {
        signal?.removeEventListener('abort', stop);
        resolve();
        return;
      }
      timer = setTimeout(tick, Math.max(0, pending.atMs - (clock() - t0)));
    };
    tick();
  });
}
