import type { ProviderLimits } from '../core/envelope.js';

export type { ProviderLimits };

/** An admission granted by a limiter; hand it back to `sent` and `reconcile`. */
export type Ticket = unknown;

export type Acquisition =
  | { readonly admitted: true; readonly ticket: Ticket }
  | {
      readonly admitted: false;
      /** When capacity may exist again (ms from now); the executor sets one timer for it. */
      readonly retryInMs: number;
      /** Which limit said no: `requests`, `tokens`, `paused` (429 / adaptive) or `unavailable` (store down). */
      readonly reason: 'requests' | 'tokens' | 'paused' | 'unavailable';
    };

/**
 * Admission control for request and token rate limits. Guarantee: never more than `limit`
 * requests (or estimated tokens) *sent* inside any rolling window of `windowMs`, provided the
 * executor reports every admission's send instant with `sent`. Acquisitions are made one at a
 * time by the executor, in queue order.
 *
 * Send-time accounting: an admitted slot is *held* (it counts in every window and never
 * expires) until `sent(ticket, at)` places it at `at`, never earlier than its admission.
 * Every admitted ticket must be reported exactly once: when its request leaves, or, for a
 * call that settles without a report (cancelled before its handler started, failed before
 * sending), with the settle instant. A held slot is never released: a request that may have
 * left still counts.
 */
export interface Limiter {
  /** Throws a non-retryable `RateLimitError` when `tokens` can never fit a token window. */
  check(tokens: number): void;
  /**
   * Asks to admit one request of `tokens` estimated tokens. `at` is the executor's monotonic
   * instant of the decision (in-process limiters record it, so `ServiceCall.startedAt` equals
   * the admission time they counted); a shared store uses its own clock.
   */
  acquire(tokens: number, at?: number): Acquisition | Promise<Acquisition>;
  /**
   * The request of `ticket` left the process at monotonic instant `at` (core/clock `now()`),
   * or its call settled at `at` without sending. Later reports of the same ticket are ignored.
   */
  sent?(ticket: Ticket, at: number): void | Promise<void>;
  /**
   * false when `ticket` holds no slot waiting for its send instant (a limiter with no window
   * that no provider has spoken to yet, or a ticket already placed): the executor then reports
   * nothing for it, so a call costs no send tracking and a placed slot is not reported again.
   * Absent: every ticket holds.
   */
  holds?(ticket: Ticket): boolean;
  /** Corrects the token window with the actual usage of an admitted call (refund or charge). */
  reconcile(ticket: Ticket, actualTokens: number): void | Promise<void>;
  /** Sets a guard band of `ms` added to every window (`guard: 'auto'` passes the measured p99 jitter). */
  widen?(ms: number): void;
  /** No admissions for `ms` (a 429 with retry-after pauses every call, not only the one). */
  pause(ms: number): void;
  /**
   * Applies what the provider's headers said. `ticket` is the admission whose response carried
   * them: our requests admitted after it (and any not yet sent) are taken off `remaining`.
   */
  observe(limits: ProviderLimits, ticket?: Ticket): void;
  close(): Promise<void>;
}
