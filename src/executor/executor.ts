import { CallContext } from '../core/call-context.js';
import { checkSubmitOptions, closeOptionsError, type CloseOptions, type SubmitOptions } from '../core/call-options.js';
import { now } from '../core/clock.js';
import { resolveConfig, type ExecutorConfig, type ResolvedConfig } from '../core/config.js';
import type { Unwrapped } from '../core/envelope.js';
import { MicrotaskBatch } from '../core/microtask.js';
import { CallpoolError, CancelledError, ClosedError, DeadlineExceededError, QueueFullError } from '../core/errors.js';
import type { ExecutorEventMap, ExecutorEventName } from '../core/events.js';
import { noop } from '../core/noop.js';
import { settledWithin } from '../core/timers.js';
import type { Service } from '../core/service.js';
import type { ServiceCall } from '../core/service-call.js';
import { createLimiter } from '../limits/create-limiter.js';
import { LimiterFeedback } from '../limits/feedback.js';
import type { Limiter } from '../limits/types.js';
import { compose, type Chain } from '../middleware/compose.js';
import { streamNext } from '../middleware/next-safely.js';
import { CALL_STATE, type Invocation, type Middleware } from '../middleware/types.js';
import { createPool } from '../pool/create-pool.js';
import type { Pool } from '../pool/types.js';
import { Admission } from './admission.js';
import { EventHub } from './event-hub.js';
import { CallEntry } from './call-entry.js';
import { CallStream } from './call-stream.js';
import { DispatchJitter } from './dispatch-jitter.js';
import { StatsCollector, type ExecutorStats } from './executor-stats.js';
import { cancelled, flatten, invocation, scrubHistory, statusOf, type SettledStatus } from './outcome.js';
import { checkServices, checkSubmission, type SubmissionOptions } from './submission.js';
import { PENDING, Terminal, type Settle } from './terminal.js';

// A service's chunk type does not matter to `call`, nor its result type to `stream`; `any`
// lets a fully typed service fit both (its callbacks make those parameters contravariant).
type AnyChunk = any;
type AnyResult = any;

/**
 * Takes service calls, admits every attempt through one queue (rate and token limits, a
 * concurrency limit, each call's deadline: see `Admission`), runs them through the middleware
 * onion down to the pool (`Terminal`), and settles each accepted call exactly once, in `#settle`.
 *
 * `submit`, `stream` and `call` refuse a call they cannot accept at once: `submit` and `stream`
 * throw (`QueueFullError`, `ClosedError`, `ValidationError`, or a non-retryable `RateLimitError`
 * for a token estimate over a whole window), and `call` returns a promise rejected with it.
 */
export class Executor {
  readonly #cfg: ResolvedConfig<Middleware>;
  readonly #pool: Pool;
  readonly #limiter: Limiter;
  readonly #admission: Admission;
  readonly #terminal: Terminal;
  readonly #feedback: LimiterFeedback;
  readonly #submission: SubmissionOptions;
  /** No middleware with a call side: calls go straight to the terminal. */
  readonly #bare: boolean;
  readonly #chain: Chain;
  readonly #events = new EventHub();
  readonly #stats: StatsCollector;
  readonly #jitter: DispatchJitter;
  /** Services whose workers and modules were warmed (or are being). */
  readonly #warmed = new Set<Service>();
  /** Synchronous handlers' results, settled on a later microtask (never inside submit()). */
  readonly #completedSoon = new MicrotaskBatch<CallEntry>((entry, value) => this.#settle(entry, 'COMPLETED', value));
  readonly #settleBound: Settle = (entry, status, outcome) => this.#settle(entry, status, outcome);
  #closing: Promise<void> | undefined;
  #idle: (() => void)[] = [];

  constructor(config: ExecutorConfig<Middleware> = {}) {
    this.#cfg = resolveConfig(config);
    this.#stats = new StatsCollector(this.#cfg.historySize);
    this.#limiter = createLimiter(this.#cfg.limits);
    this.#jitter = DispatchJitter.forGuard(this.#cfg.guard, this.#limiter);
    this.#pool = createPool(this.#cfg.pool);
    this.#admission = new Admission(this.#limiter, this.#cfg.concurrency, {
      admitted: (entry, t) => this.#admitted(entry, t),
      rateLimited: (entry, waitMs, reason) => {
        this.#stats.rateLimitedWaits++;
        if (this.#events.listening.rateLimited) this.#events.emit('rateLimited', { service: entry.call.service, callId: entry.call.id, ctx: entry.ctx, waitMs, reason, attempt: entry.attempt });
      },
      expired: (entry, err) => this.#cancel(entry, err, 'FAILED'),
    });
    this.#feedback = new LimiterFeedback(this.#limiter, () => this.#admission.refunded());
    this.#terminal = new Terminal(this.#pool, this.#feedback, this.#jitter);
    this.#submission = { pool: this.#pool, limiter: this.#limiter, validateRequests: this.#cfg.validateRequests, rejected: this.#stats.rejected };
    this.#bare = this.#cfg.middleware.every((mw) => typeof mw.call !== 'function');
    this.#chain = compose(this.#cfg.middleware, {
      call: (inv) => this.#attempt(inv, (e, t) => Promise.resolve(this.#terminal.call(e, inv.request, e.ticket, t))),
      stream: (inv) => this.#attempt(inv, (e, t) => this.#terminal.stream(e, inv.request, e.ticket, t)),
    });
    for (const mw of this.#cfg.middleware) mw.attach?.(this);
  }

  /** The pool's kind (`piscina`, `tinypool`, `inline`, or a custom pool's own). */
  get poolKind(): string {
    return this.#pool.kind;
  }

  /** Calls waiting for admission. */
  get queued(): number {
    return this.#admission.waiting;
  }

  /** Calls and streams holding a concurrency slot. */
  get running(): number {
    return this.#admission.running.size;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Starts the pool's workers and loads the handler modules of `services` (and of every
   * service seen so far), so the first admitted calls do not leave late behind a cold start.
   */
  async ready(services: readonly Service[] = []): Promise<void> {
    for (const s of checkServices(services)) this.#warmed.add(s);
    await this.#pool.ready?.([...this.#warmed]);
  }

  /** Accepts a call and returns its `ServiceCall` (see the class doc for what it refuses). */
  submit<Req, Res>(service: Service<Req, Res, AnyChunk>, request: Req, ctx?: CallContext, options?: SubmitOptions): ServiceCall<Unwrapped<Res>> {
    return this.#accept(service as Service, request, ctx, options, 'call').call as ServiceCall<Unwrapped<Res>>;
  }

  /** Runs a call and resolves with its result or rejects with its error, exactly once. */
  call<Req, Res>(service: Service<Req, Res, AnyChunk>, request: Req, ctx?: CallContext, options?: SubmitOptions): Promise<Unwrapped<Res>> {
    try {
      return this.submit(service, request, ctx, options).result();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs a streaming call. The returned iterable is queued and admitted like a call (it holds a
   * concurrency slot until it ends); chunks are pulled with backpressure. `break` cancels.
   */
  stream<Req, Chunk = unknown>(service: Service<Req, AnyResult, Chunk>, request: Req, ctx?: CallContext, options?: SubmitOptions): CallStream<Unwrapped<Chunk>> {
    return this.#accept(service as Service, request, ctx, options, 'stream').stream as CallStream<Unwrapped<Chunk>>;
  }

  on<K extends ExecutorEventName>(event: K, listener: (e: ExecutorEventMap[K]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  off<K extends ExecutorEventName>(event: K, listener: (e: ExecutorEventMap[K]) => void): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Counters, queue-wait and run-time percentiles (ms), dispatch jitter, and the last settled calls. */
  stats(): ExecutorStats {
    return { ...this.#stats.snapshot(this.queued, this.running, scrubHistory), dispatch: this.#jitter.snapshot() };
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    if (this.#admission.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops accepting calls (`submit` then throws `ClosedError`), then either drains (default) or
   * cancels queued calls and aborts running ones; finally closes middleware, limiter and pool.
   * Leaves no timers, threads or sockets behind. Calling it again returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing === undefined) {
      const bad = closeOptionsError(options);
      if (bad) return Promise.reject(bad);
    }
    this.#closing ??= (async () => {
      if (options.drain ?? true) await settledWithin(this.onIdle(), options.timeoutMs ?? Infinity);
      const closed = new CancelledError('executor closed');
      for (const e of [...this.#admission.queue, ...this.#admission.running]) this.#cancel(e, closed, 'CANCELLED');
      this.#admission.close();
      await Promise.all(this.#cfg.middleware.map((mw) => mw.close?.()));
      await this.#limiter.close();
      await this.#pool.close();
    })();
    return this.#closing;
  }

  #accept(service: Service, request: unknown, ctx: CallContext | undefined, options: SubmitOptions | undefined, kind: 'call' | 'stream'): CallEntry {
    checkSubmitOptions(options);
    if (this.#closing !== undefined) {
      this.#stats.rejected.closed++;
      throw new ClosedError('executor is closed; no new calls are accepted');
    }
    const context = ctx ?? CallContext.new('default');
    const tokens = checkSubmission(service, request, context, this.#submission);
    const capacity = this.#cfg.queueCapacity;
    if (this.#admission.waiting >= capacity) {
      this.#stats.rejected.queueFull++;
      if (this.#events.listening.queueFull) this.#events.emit('queueFull', { service: service.name, capacity, ctx: context });
      throw new QueueFullError(capacity, { context: { service: service.name } });
    }

    const t = now();
    const entry = new CallEntry(service, request, context, tokens, t);
    this.#stats.accepted++;
    entry.call.markQueued(t);
    if (kind === 'stream') entry.stream = new CallStream(entry.call, { stop: (reason) => this.#cancel(entry, cancelled(reason), 'CANCELLED'), end: (err) => this.#settle(entry, err === undefined ? 'COMPLETED' : statusOf(err), err) });
    if (!this.#warmed.has(service) && this.#pool.ready !== undefined) {
      // First sight of a service: have the pool load its module now, beside the first call.
      this.#warmed.add(service);
      this.#pool.ready([service]).catch(noop);
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      this.#settle(entry, 'CANCELLED', cancelled(signal.reason));
      return entry;
    }
    if (context.deadline !== undefined && t >= context.deadline) {
      this.#settle(entry, 'FAILED', new DeadlineExceededError('queued'));
      return entry;
    }
    if (signal) {
      const listener = (): void => this.#cancel(entry, cancelled(signal.reason), 'CANCELLED');
      entry.userAbort = { signal, listener };
      signal.addEventListener('abort', listener, { once: true });
    }
    this.#admission.enqueue(entry);
    return entry;
  }

  /** Admission let `entry`'s attempt in at `t`: a retry goes back to its middleware, a first attempt starts. */
  #admitted(entry: CallEntry, t: number): void {
    const call = entry.call;
    if (this.#events.listening.admitted) this.#events.emit('admitted', { service: call.service, callId: call.id, at: t, queueWaitMs: t - (entry.readmit === undefined ? call.queuedAt! : entry.readmit.at), attempt: entry.attempt });
    entry.admittedAt = t;
    if (entry.readmit !== undefined) {
      const r = entry.readmit;
      entry.readmit = undefined;
      return r.resolve(entry.ticket);
    }
    call.markExecuting(t);
    this.#stats.queueWait.recordMs(t - call.queuedAt!);
    if (entry.stream !== undefined) return entry.stream.begin(streamNext(this.#chain.stream, invocation(entry)));
    let out: unknown;
    try {
      // Without middleware the onion is only the terminal: no invocation, no promise of ours.
      out = this.#bare ? this.#terminal.run(entry, t, this.#settleBound) : this.#chain.call(invocation(entry));
    } catch (err) {
      out = Promise.reject(err);
    }
    if (out === PENDING) return;
    if (out instanceof Promise) out.then((v) => this.#settle(entry, 'COMPLETED', v), (e: unknown) => this.#settle(entry, statusOf(e), e));
    // Settle on a later microtask, never inside submit(): a queue of synchronous handlers
    // must not recurse through settle -> admission -> start.
    else this.#completedSoon.push(entry, out);
  }

  /** An attempt reaching the terminal: the first runs now, a retry re-enters admission at the head. */
  #attempt<T>(inv: Invocation, run: (entry: CallEntry, admittedAt: number) => T): T {
    const entry = inv[CALL_STATE] as CallEntry;
    if (entry.settled) throw entry.call.error;
    if (inv.attempt <= entry.attempt) return run(entry, entry.admittedAt);
    entry.attempt = inv.attempt;
    const admitted = this.#admission.readmit(entry, now()).then(() => run(entry, entry.admittedAt));
    return (entry.stream === undefined ? admitted : flatten(admitted as Promise<AsyncIterable<unknown>>)) as T;
  }

  #cancel(entry: CallEntry, err: CallpoolError, status: 'FAILED' | 'CANCELLED'): void {
    if (entry.settled) return;
    entry.abort(err);
    this.#settle(entry, status, err);
  }

  /** The one place a call settles: exactly once, releasing whatever it held. */
  #settle(entry: CallEntry, status: SettledStatus, outcome: unknown): void {
    const call = entry.call;
    if (call.settled) return;
    const t = now();
    const wasRunning = entry.running;
    if (entry.userAbort !== undefined) entry.userAbort.signal.removeEventListener('abort', entry.userAbort.listener);
    if (status === 'COMPLETED') call.complete(outcome, t);
    else {
      call.fail(outcome, status, t);
      if (!wasRunning) entry.stream?.refuse(outcome);
    }
    this.#stats.settled(call, outcome, wasRunning);
    // Out of the queue, the deadline heap and its slot before anything below (a send report, a
    // listener) can admit the next call: a settled call must never be found at the head.
    this.#admission.release(entry);
    // An attempt that never reached the pool still holds its slot in the limiter: place it now.
    if (entry.ticket !== undefined) this.#feedback.sent(entry.ticket, t);
    if (this.#events.listening.settled) {
      this.#events.emit('settled', { service: call.service, callId: call.id, status, runMs: wasRunning ? t - call.startedAt! : 0, ...(status === 'COMPLETED' ? {} : { error: outcome }) });
    }
    // A retry that was waiting for admission: its middleware learns the outcome (already settled).
    if (entry.readmit !== undefined) {
      entry.readmit.reject(outcome);
      entry.readmit = undefined;
    }
    if (this.#idle.length > 0 && this.#admission.idle) for (const w of this.#idle.splice(0)) w();
  }
}
