import { maxInWindow } from './services.js';

export interface Admission {
  /** When the call was queued and when it was admitted (monotonic ms). */
  queuedAt: number;
  at: number;
  /**
   * When its request left (monotonic ms), where a limiter with send-time accounting places the
   * slot: capacity frees a window after it. Without it, a window after the admission.
   */
  sentAt?: number;
}

export interface RateAccuracy {
  /** Most admissions in any rolling window (must be <= limit). */
  maxInWindow: number;
  /** Over the admissions that waited for rate capacity: windowMs / mean(t[k] - t[k-limit]); 1 is perfect. */
  utilisation: number;
  /** How late each saturated admission was after capacity freed (ms). */
  lateness: number[];
}

/**
 * Rate accuracy from admission times. Admission k is saturated when it was already queued at
 * the instant the window let it in (a window after admission k-limit's slot: its send instant
 * when known, else its admission); then the ideal is exactly that instant, and any extra is
 * lateness (lost utilisation).
 */
export function rateAccuracy(admissions: readonly Admission[], limit: number, windowMs: number): RateAccuracy {
  const sorted = [...admissions].sort((a, b) => a.at - b.at);
  const times = sorted.map((a) => a.at);
  const gaps: number[] = [];
  const lateness: number[] = [];
  for (let k = limit; k < sorted.length; k++) {
    const frees = (sorted[k - limit]!.sentAt ?? times[k - limit]!) + windowMs;
    if (sorted[k]!.queuedAt <= frees) {
      gaps.push(times[k]! - times[k - limit]!);
      lateness.push(times[k]! - frees);
    }
  }
  const mean = gaps.length === 0 ? windowMs : gaps.reduce((a, b) => a + b, 0) / gaps.length;
  return { maxInWindow: maxInWindow(times, windowMs), utilisation: windowMs / mean, lateness };
}
