import { now } from '../core/clock.js';
import type { RateWindow } from '../core/schemas.js';
import { SlidingWindow } from './sliding-window.js';
import { ProviderCeiling } from './provider-ceiling.js';
import { assertTokensFit } from './token-fit.js';
import type { Acquisition, Limiter, ProviderLimits, Ticket } from './types.js';

interface MemoryTicket {
  /** Sequence numbers in each token window, for reconciliation. */
  seqs: number[];
}

const ADMITTED_NO_TICKET: Acquisition = Object.freeze({ admitted: true, ticket: undefined });

/** Request and token windows kept in this process; exact, synchronous, no polling. */
export class MemoryLimiter implements Limiter {
  readonly #requests: SlidingWindow[];
  readonly #tokens: SlidingWindow[];
  #pausedUntil = 0;
  /** Provider-reported ceilings: until `until`, no more than `remaining` more admissions. */
  readonly #provider = new ProviderCeiling();

  constructor(requests: readonly RateWindow[], tokens: readonly RateWindow[], private readonly clock: () => number = now) {
    this.#requests = requests.map((w) => new SlidingWindow(w.limit, w.windowMs));
    this.#tokens = tokens.map((w) => new SlidingWindow(w.limit, w.windowMs));
  }

  check(tokens: number): void {
    assertTokensFit(tokens, this.#tokens);
  }

  acquire(tokens: number, at?: number): Acquisition {
    const t = at ?? this.clock();
    if (t < this.#pausedUntil) return { admitted: false, retryInMs: this.#pausedUntil - t, reason: 'paused' };
    const provider = this.#provider.wait(tokens, t);
    if (provider > 0) return { admitted: false, retryInMs: provider, reason: 'paused' };
    let wait = 0;
    let reason: 'requests' | 'tokens' = 'requests';
    for (const w of this.#requests) {
      const d = w.waitFor(1, t);
      if (d > wait) wait = d;
    }
    if (tokens > 0) {
      for (const w of this.#tokens) {
        const d = w.waitFor(tokens, t);
        if (d > wait) {
          wait = d;
          reason = 'tokens';
        }
      }
    }
    if (wait > 0) return { admitted: false, retryInMs: wait, reason };
    for (const w of this.#requests) w.add(1, t);
    this.#provider.admitted(tokens);
    if (this.#tokens.length === 0) return ADMITTED_NO_TICKET;
    const charged = tokens > 0 ? tokens : 0;
    const ticket: MemoryTicket = { seqs: this.#tokens.map((w) => w.add(charged, t)) };
    return { admitted: true, ticket };
  }

  reconcile(ticket: Ticket, actualTokens: number): void {
    if (ticket === undefined || !Number.isFinite(actualTokens) || actualTokens < 0) return;
    const { seqs } = ticket as MemoryTicket;
    for (let i = 0; i < this.#tokens.length; i++) this.#tokens[i]!.adjust(seqs[i]!, actualTokens);
  }

  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.clock() + ms);
  }

  observe(limits: ProviderLimits): void {
    this.#provider.observe(limits, this.clock());
  }

  widen(ms: number): void {
    const guard = Number.isFinite(ms) && ms > 0 ? ms : 0;
    for (const w of [...this.#requests, ...this.#tokens]) w.guardMs = guard;
  }

  async close(): Promise<void> {}

}
