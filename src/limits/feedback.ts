import type { ResultMeta } from '../core/envelope.js';
import { RateLimitError } from '../core/errors.js';
import { noop } from '../core/noop.js';
import type { Limiter, Ticket } from './types.js';

/**
 * What the limiter learns from calls after admission: the request's send instant, the real
 * token usage (reconcile), a provider's announced limits (headers) and its 429s (a pause for
 * everyone). The executor's terminal reports here; nothing else talks to the limiter after
 * admission.
 */
export class LimiterFeedback {
  readonly #limiter: Limiter | undefined;
  readonly #refunded: () => void;

  /** @param refunded told when a refund may let the waiting head in sooner */
  constructor(limiter: Limiter | undefined, refunded: () => void) {
    this.#limiter = limiter;
    this.#refunded = refunded;
  }

  /**
   * The attempt holding `ticket` left the process at `at` (monotonic), or ended at `at` without
   * a report (never reached the pool, cancelled before its handler started): a held slot is
   * placed then, never released. Only a ticket's first report counts.
   */
  sent(ticket: Ticket, at: number): void {
    if (!this.holds(ticket)) return;
    const r = this.#limiter?.sent?.(ticket, at);
    if (r instanceof Promise) r.catch(noop);
    // A held slot now has its instant: the waiting head may be due sooner than its timer says.
    else this.#refunded();
  }

  /** Whether `ticket` waits for a send report (see `Limiter.holds`). */
  holds(ticket: Ticket): boolean {
    return ticket !== undefined && this.#limiter?.holds?.(ticket) !== false;
  }

  /**
   * A result's or chunk's meta: provider limits go to the limiter with the ticket whose response
   * carried them (requests admitted after it are taken off `remaining`); returns the tokens.
   */
  meta(meta: ResultMeta, ticket: Ticket): number | undefined {
    if (meta.providerLimits !== undefined) this.#limiter?.observe(meta.providerLimits, ticket);
    return meta.usage?.tokens;
  }

  reconcile(ticket: Ticket, used: number, estimated: number): void {
    if (this.#limiter === undefined || ticket === undefined) return;
    const r = this.#limiter.reconcile(ticket, used);
    if (r instanceof Promise) r.catch(noop);
    else if (used < estimated) this.#refunded();
  }

  /** A 429 with retry-after pauses admissions for every call, not only the one that got it. */
  failed(err: unknown): void {
    if (err instanceof RateLimitError && err.retryAfterMs !== undefined && err.retryAfterMs > 0) this.#limiter?.pause(err.retryAfterMs);
  }
}
