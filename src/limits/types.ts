import type { ProviderLimits } from '../core/envelope.js';

export type { ProviderLimits };

/** An admission granted by a limiter; hand it back to `reconcile` with the actual usage. */
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
 * admissions (requests, or estimated tokens) starting inside any rolling window of `windowMs`.
 * Acquisitions are made one at a time by the executor, in queue order.
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
   * The admitted request of `ticket` left the process at monotonic instant `at` (`core/clock`
   * `now()`): the limiter moves that slot's time in the window there. Until reported, a slot
   * is held (counts in every window, never earlier than its admission).
   */
  sent?(ticket: Ticket, at: number): void | Promise<void>;
  /**
   * Widens every window by `ms` from now on (`guard: 'auto'` passes the measured p99 of the
   * dispatch jitter): a slot whose request leaves up to `ms` after its admission still counts
   * in every window it lands in.
   */
  widen?(ms: number): void;
  /** Corrects the token window with the actual usage of an admitted call (refund or charge). */
  reconcile(ticket: Ticket, actualTokens: number): void | Promise<void>;
  /** No admissions for `ms` (a 429 with retry-after pauses every call, not only the one). */
  pause(ms: number): void;
  /** Tightens the limiter when the provider reports less room than configured. */
  observe(limits: ProviderLimits): void;
  close(): Promise<void>;
}
