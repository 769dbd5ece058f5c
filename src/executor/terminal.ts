import { now, toEpoch } from '../core/clock.js';
import { isEnvelope, META } from '../core/envelope.js';
import type { HandlerContext } from '../core/service.js';
import type { LimiterFeedback } from '../limits/feedback.js';
import type { Ticket } from '../limits/types.js';
import type { Pool, PoolTask } from '../pool/types.js';
import type { CallEntry } from './call-entry.js';
import type { DispatchJitter } from './dispatch-jitter.js';
import { statusOf, type SettledStatus } from './outcome.js';

/** Where `Terminal.run` sends a call's outcome. */
export type Settle = (entry: CallEntry, status: SettledStatus, outcome: unknown) => void;

/** `Terminal.run`'s answer when the outcome will reach its `settle`. */
export const PENDING: unique symbol = Symbol('pending');

/**
 * The innermost step of every attempt: runs its task on the pool and turns what comes back into
 * the caller's value (envelopes unwrapped, token usage and provider limits fed back to the
 * limiter, 429s pausing everyone). The send instant the pool reports goes to the limiter.
 */
export class Terminal {
  readonly #pool: Pool;
  readonly #feedback: LimiterFeedback;
  readonly #jitter: DispatchJitter;

  constructor(pool: Pool, feedback: LimiterFeedback, jitter: DispatchJitter) {
    this.#pool = pool;
    this.#feedback = feedback;
    this.#jitter = jitter;
  }

  /** The attempt's value, or a promise of it (the inline pool may answer synchronously). */
  call(entry: CallEntry, request: unknown, ticket: Ticket, admittedAt: number): unknown {
    // A ticket that holds no slot (no window, no provider heard yet) needs no send instant.
    const held = this.#feedback.holds(ticket);
    const out = this.#send(entry, request, ticket, held, admittedAt);
    if (!(out instanceof Promise)) return this.#succeeded(entry, out, held, ticket);
    return out.then(
      (raw) => this.#succeeded(entry, raw, held, ticket),
      (err: unknown) => {
        throw this.#failed(err, held, ticket);
      },
    );
  }

  /**
   * A call's attempt that no middleware wraps: `call` without a promise of its own. The outcome
   * goes to `settle` straight from the pool's promise (one reaction per call, not two), and
   * `PENDING` is returned; a pool that answers synchronously gets its decoded value returned
   * instead, for the caller to settle later. Throws what `call` would.
   */
  run(entry: CallEntry, admittedAt: number, settle: Settle): unknown {
    const ticket = entry.ticket;
    const held = this.#feedback.holds(ticket);
    const out = this.#send(entry, entry.request, ticket, held, admittedAt);
    if (!(out instanceof Promise)) return this.#succeeded(entry, out, held, ticket);
    out.then(
      (raw) => {
        let value: unknown;
        try {
          value = this.#succeeded(entry, raw, held, ticket);
        } catch (err) {
          return settle(entry, statusOf(err), err);
        }
        settle(entry, 'COMPLETED', value);
      },
      (err: unknown) => settle(entry, statusOf(err), this.#failed(err, held, ticket)),
    );
    return PENDING;
  }

  /** The attempt's chunks, unwrapped; the usage they report reconciles the limiter at the end. */
  async *stream(entry: CallEntry, request: unknown, ticket: Ticket, admittedAt: number): AsyncGenerator<unknown> {
    const source = this.#pool.stream(this.#task(entry, request, this.#feedback.holds(ticket) ? ticket : undefined, admittedAt), entry.handle);
    const fromChunk = entry.service.tokensFromChunk;
    let used: number | undefined;
    try {
      for await (const raw of source) {
        let value = raw;
        if (isEnvelope(raw)) {
          const u = this.#feedback.meta(raw[META], ticket);
          if (u !== undefined) used = (used ?? 0) + u;
          if (!('value' in raw)) continue;
          value = raw.value;
        }
        if (fromChunk !== undefined) {
          const u = fromChunk(value);
          if (u !== undefined) used = (used ?? 0) + u;
        }
        yield value;
      }
    } catch (err) {
      this.#feedback.failed(err);
      throw err;
    } finally {
      this.#feedback.sent(ticket, now());
      if (used !== undefined) this.#feedback.reconcile(ticket, used, entry.tokens);
    }
  }

  /** The pool's task; given a `heldTicket` (one waiting for its send instant) it asks for the send report. */
  #task(entry: CallEntry, request: unknown, heldTicket: Ticket, admittedAt: number): PoolTask {
    const ctx = handlerContext(entry);
    if (heldTicket === undefined) return { service: entry.service, request, ctx };
    const ticket = heldTicket;
    const onSent = (at: number): void => {
      this.#jitter.record(admittedAt, at, now());
      // Never earlier than the admission the limiter counted (clocks of two threads).
      this.#feedback.sent(ticket, Math.max(at, admittedAt));
    };
    return { service: entry.service, request, ctx, onSent };
  }

  /** Hands the attempt to the pool; a pool that throws has failed the attempt (see `#failed`). */
  #send(entry: CallEntry, request: unknown, ticket: Ticket, held: boolean, admittedAt: number): unknown {
    try {
      return this.#pool.run(this.#task(entry, request, held ? ticket : undefined, admittedAt), entry.handle);
    } catch (err) {
      throw this.#failed(err, held, ticket);
    }
  }

  /** The pool's answer: the send slot placed (if still held), then the raw result decoded. */
  #succeeded(entry: CallEntry, raw: unknown, held: boolean, ticket: Ticket): unknown {
    if (held) this.#feedback.sent(ticket, now());
    return this.#decode(entry, raw, ticket);
  }

  /** The pool's failure: the send slot placed (if still held), a 429 heard; returns `err`. */
  #failed(err: unknown, held: boolean, ticket: Ticket): unknown {
    if (held) this.#feedback.sent(ticket, now());
    this.#feedback.failed(err);
    return err;
  }

  /** A handler's raw result: unwraps its envelope, reconciles the token window with its usage. */
  #decode(entry: CallEntry, raw: unknown, ticket: Ticket): unknown {
    let value = raw;
    let used: number | undefined;
    if (isEnvelope(raw)) {
      value = raw.value;
      used = this.#feedback.meta(raw[META], ticket);
    }
    if (used === undefined && entry.service.tokensFromResult !== undefined) used = entry.service.tokensFromResult(value);
    if (used !== undefined) this.#feedback.reconcile(ticket, used, entry.tokens);
    return value;
  }
}

function handlerContext(entry: CallEntry): HandlerContext {
  const ctx = entry.ctx;
  return {
    callId: ctx.callId,
    branchId: ctx.branchId,
    deadlineEpochMs: ctx.deadline === undefined ? null : toEpoch(ctx.deadline),
    capabilities: ctx.capabilities as string[],
    attrs: ctx.attrs as Record<string, unknown>,
    options: entry.service.options,
  };
}
