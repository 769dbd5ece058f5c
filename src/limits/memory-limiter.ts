import { now } from '../core/clock.js';
import { ConfigError, type Issue } from '../core/errors.js';
import { RateWindowSchema, type RateWindow } from '../core/schemas.js';
import { keepShape } from '../core/shapes.js';
import { compile } from '../core/validate.js';
import { SlidingWindow } from './sliding-window.js';
import { ProviderCeiling, type ProviderSlot } from './provider-ceiling.js';
import { assertTokensFit } from './token-fit.js';
import type { Acquisition, Limiter, ProviderLimits, Ticket } from './types.js';

/** One admission of the memory limiter: held in every window until its send is reported. */
export class MemoryTicket implements ProviderSlot {
  /** Monotonic instant the admission's request left (or its settle instant); undefined while held. */
  sentAt: number | undefined = undefined;
  /** Sequence numbers in each token window once placed, for reconciliation. */
  seqs: number[] | undefined = undefined;
  providerHeld = false;

  constructor(
    readonly at: number,
    /** Tokens currently charged (the estimate, then the reconciled usage). */
    public tokens: number,
    readonly charged: number,
    readonly reqSeq: number,
    readonly tokSeq: number,
  ) {}
}

/**
 * Request and token windows kept in this process; exact, synchronous, no polling. With no
 * window at all it still applies what the provider says (a 429's pause, `x-ratelimit-*`
 * headers) and costs one small object per admission until the provider says something.
 */
export class MemoryLimiter implements Limiter {
  readonly #requests: SlidingWindow[];
  readonly #tokens: SlidingWindow[];
  #pausedUntil = 0;
  readonly #provider = new ProviderCeiling();
  /** No window configured: until a provider speaks, admissions cost a counter. */
  readonly #plain: boolean;

  /** @throws ConfigError (`E_CONFIG`) naming each bad window (or a clock that is not a function) */
  constructor(requests: readonly RateWindow[], tokens: readonly RateWindow[], private readonly clock: () => number = now) {
    checkWindows(requests, tokens, clock);
    this.#requests = requests.map((w) => new SlidingWindow(w.limit, w.windowMs));
    this.#tokens = tokens.map((w) => new SlidingWindow(w.limit, w.windowMs));
    this.#plain = requests.length === 0 && tokens.length === 0;
  }

  check(tokens: number): void {
    assertTokensFit(tokens, this.#tokens);
  }

  acquire(tokens: number, at?: number): Acquisition {
    const t = at ?? this.clock();
    if (this.#plain && !this.#provider.active && t >= this.#pausedUntil) {
      // No window and nothing said by a provider: the ticket is the admission's sequence number.
      return { admitted: true, ticket: this.#provider.admittedPlain(t) };
    }
    const paused = this.gate(tokens, t);
    if (paused > 0) return { admitted: false, retryInMs: paused, reason: 'paused' };
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
    return { admitted: true, ticket: this.record(tokens, t) };
  }

  /** 0 when neither a pause (429) nor what the provider said holds a request of `tokens` at `t`; else ms until it may. */
  gate(tokens: number, t: number): number {
    if (t < this.#pausedUntil) return this.#pausedUntil - t;
    return this.#provider.active ? this.#provider.wait(tokens, t) : 0;
  }

  /**
   * Holds an admission in every window without asking whether it fits: for an admission
   * decided elsewhere (the Redis limiter mirrors its own here, for when Redis is away).
   */
  record(tokens: number, t: number): MemoryTicket {
    const charged = tokens > 0 ? tokens : 0;
    const ticket = new MemoryTicket(t, charged, charged, this.#provider.admittedCount, this.#provider.admittedTokens);
    for (const w of this.#requests) w.hold(1);
    for (const w of this.#tokens) w.hold(charged);
    this.#provider.admitted(ticket);
    return ticket;
  }

  /**
   * The request of `ticket` left at `at` (or its call settled then without a report): its
   * slot moves from held to that instant, never earlier than its admission. Only the first
   * report counts.
   */
  sent(ticket: Ticket, at: number): void {
    if (!(ticket instanceof MemoryTicket) || ticket.sentAt !== undefined) return;
    const t = Number.isFinite(at) && at > ticket.at ? at : ticket.at;
    ticket.sentAt = t;
    for (const w of this.#requests) w.place(1, t);
    if (this.#tokens.length > 0) ticket.seqs = this.#tokens.map((w) => w.place(ticket.tokens, t));
    this.#provider.sent(ticket, t);
  }

  holds(ticket: Ticket): boolean {
    return ticket instanceof MemoryTicket && ticket.sentAt === undefined;
  }

  reconcile(ticket: Ticket, actualTokens: number): void {
    if (!(ticket instanceof MemoryTicket) || !Number.isFinite(actualTokens) || actualTokens < 0) return;
    if (ticket.seqs === undefined) {
      if (ticket.sentAt === undefined) for (const w of this.#tokens) w.adjustHeld(ticket.tokens, actualTokens);
    } else {
      for (let i = 0; i < this.#tokens.length; i++) this.#tokens[i]!.adjust(ticket.seqs[i]!, actualTokens);
    }
    ticket.tokens = actualTokens;
  }

  /** Adds a guard band of `ms` to every window (replacing the previous guard). */
  widen(ms: number): void {
    const g = Number.isFinite(ms) && ms > 0 ? ms : 0;
    for (const w of this.#requests) w.widen(g);
    for (const w of this.#tokens) w.widen(g);
    this.#provider.widen(g);
  }

  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.clock() + ms);
  }

  observe(limits: ProviderLimits, ticket?: Ticket): void {
    this.#provider.observe(limits, this.clock(), ticket instanceof MemoryTicket || typeof ticket === 'number' ? ticket : undefined);
  }

  async close(): Promise<void> {}
}

const validWindow = compile(RateWindowSchema, { lazy: true });

function checkWindows(requests: unknown, tokens: unknown, clock: unknown): void {
  const issues: Issue[] = [];
  for (const [name, list] of [['requests', requests], ['tokens', tokens]] as const) {
    if (!Array.isArray(list)) issues.push({ path: `/${name}`, rule: 'type', message: 'must be an array of { limit, windowMs }' });
    else if (list.length > 16) issues.push({ path: `/${name}`, rule: 'maxItems', message: 'must have at most 16 windows' });
    else list.forEach((w: unknown, i) => {
      if (!validWindow(w)) issues.push(...validWindow.issues().map((x) => ({ ...x, path: `/${name}/${i}${x.path}` })));
    });
  }
  if (typeof clock !== 'function') issues.push({ path: '/clock', rule: 'type', message: 'must be a function' });
  if (issues.length > 0) throw new ConfigError('memory limiter windows', issues);
}

keepShape(new MemoryTicket(now(), 0, 0, 0, 0));
