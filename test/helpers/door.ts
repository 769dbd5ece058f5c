/**
 * What the provider-door bench and tests measure of one run: the limiter's own send
 * instants, the admissions (each marked when its call waited for rate capacity) and, against
 * them, the upstream's arrival log.
 */
import type { ProviderLimits } from '../../src/core/envelope.js';
import type { Executor } from '../../src/executor/executor.js';
import { now } from '../../src/core/clock.js';
import { maxIn } from '../../src/harness/rate-accuracy.js';
import type { Acquisition, Limiter, Ticket } from '../../src/limits/types.js';

/** A limiter that records each ticket's first send report (the limiter's own view of the door). */
export class Recording implements Limiter {
  readonly sends: number[] = [];
  readonly #seen = new Set<Ticket>();
  constructor(readonly inner: Limiter) {}
  check(tokens: number): void {
    this.inner.check(tokens);
  }
  acquire(tokens: number, at?: number): Acquisition | Promise<Acquisition> {
    return this.inner.acquire(tokens, at);
  }
  sent(ticket: Ticket, at: number): void | Promise<void> {
    if (!this.#seen.has(ticket)) {
      this.#seen.add(ticket);
      this.sends.push(at);
    }
    return this.inner.sent?.(ticket, at);
  }
  holds(ticket: Ticket): boolean {
    return this.inner.holds?.(ticket) ?? true;
  }
  reconcile(ticket: Ticket, tokens: number): void | Promise<void> {
    return this.inner.reconcile(ticket, tokens);
  }
  widen(ms: number): void {
    this.inner.widen?.(ms);
  }
  pause(ms: number): void {
    this.inner.pause(ms);
  }
  observe(limits: ProviderLimits, ticket?: Ticket): void {
    this.inner.observe(limits, ticket);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface Admission {
  at: number;
  /** The call waited for rate capacity first. */
  saturated: boolean;
}

/** Admissions of one executor, each marked when its call waited for rate capacity. */
export function recordAdmissions(ex: Executor, into: Admission[]): void {
  const waited = new Set<string>();
  ex.on('rateLimited', (e) => waited.add(e.callId));
  ex.on('admitted', (e) => into.push({ at: e.at, saturated: waited.has(e.callId) }));
}

export interface RunFigures {
  /** Most arrivals in any rolling window, strictly. */
  strict: number;
  /** At saturation, at the arrival log (%). */
  utilisation: number | null;
  /** The same at the limiter's send instants (what the observer's stalls cannot move). */
  sendsUtilisation: number | null;
  /** The upstream thread's longest event-loop delay in the run. */
  stallMs: number;
  /** Most of the limiter's send instants in any rolling window. */
  sendsMax: number;
  /** Whether the arrivals fit the limit in windows shortened by the measured stall + 10 ms (at most half a window, as the soak's). */
  fitsStall: boolean;
  guardMs: number;
  status429: number;
}

/** `windowMs / mean(t[k] - t[k - limit])` over the k whose call waited for rate capacity, in %. */
function utilisationOf(times: ArrayLike<number>, adm: readonly Admission[], limit: number, windowMs: number): number | null {
  let gaps = 0;
  let pairs = 0;
  for (let k = limit; k < Math.min(times.length, adm.length); k++) {
    if (!adm[k]!.saturated) continue;
    gaps += times[k]! - times[k - limit]!;
    pairs++;
  }
  return pairs === 0 ? null : (windowMs / (gaps / pairs)) * 100;
}

export function figures(arrivals: Float64Array, admissions: Admission[], sends: number[], limit: number, windowMs: number, stallMs: number, guardMs: number, status429: number): RunFigures {
  const adm = [...admissions].sort((a, b) => a.at - b.at);
  const sent = Float64Array.from(sends).sort();
  return {
    strict: maxIn(arrivals, windowMs),
    utilisation: utilisationOf(arrivals, adm, limit, windowMs),
    sendsUtilisation: utilisationOf(sent, adm, limit, windowMs),
    stallMs,
    sendsMax: maxIn(sent, windowMs),
    fitsStall: maxIn(arrivals, Math.max(windowMs / 2, windowMs - stallMs - 10)) <= limit,
    guardMs,
    status429,
  };
}


export const sleepUntil = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - now())));

/** Batches of `limit / 2` just before and `limit / 2 + 2` just after each of two window edges. */
export async function straddle(limit: number, windowMs: number, call: () => Promise<unknown>): Promise<void> {
  await call(); // the one warm-up call: the first arrival, at the cold start
  const t0 = now();
  const all: Promise<unknown>[] = [];
  for (let edge = 1; edge <= 2; edge++) {
    await sleepUntil(t0 + edge * windowMs - 20);
    for (let i = 0; i < limit / 2; i++) all.push(call());
    await sleepUntil(t0 + edge * windowMs + 20);
    for (let i = 0; i < limit / 2 + 2; i++) all.push(call());
  }
  await Promise.all(all);
}

