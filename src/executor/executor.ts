import { EventEmitter } from 'node:events';
import { CallContext } from '../core/call-context.js';
import { now, toEpoch } from '../core/clock.js';
import { resolveConfig, type ExecutorConfig, type ResolvedConfig } from '../core/config.js';
import { isEnvelope, META, type ResultMeta, type Unwrapped } from '../core/envelope.js';
import { onMicrotask } from '../core/microtask.js';
import {
  CallpoolError,
  CancelledError,
  ClosedError,
  ConfigError,
  DeadlineExceededError,
  LimiterUnavailableError,
  QueueFullError,
  RateLimitError,
  ValidationError,
} from '../core/errors.js';
import type { ExecutorEventMap, ExecutorEventName } from '../core/events.js';
import type { ServiceCallData } from '../core/schemas.js';
import type { HandlerContext, Service } from '../core/service.js';
import { ServiceCall } from '../core/service-call.js';
import { createLimiter } from '../limits/create-limiter.js';
import type { Acquisition, Limiter, Ticket } from '../limits/types.js';
import { compose, type Chain } from '../middleware/compose.js';
import { redact } from '../core/redact.js';
import { sleep } from '../middleware/sleep.js';
import type { Invocation, Middleware } from '../middleware/types.js';
import { createPool } from '../pool/create-pool.js';
import { ChannelPool } from '../pool/channel-pool.js';
import { InlinePool } from '../pool/inline-pool.js';
import type { Pool } from '../pool/types.js';
import { CallStream } from './call-stream.js';
import { DeadlineHeap } from './deadline-heap.js';
import type { ExecutorStats } from './executor-stats.js';
import { StatsCollector } from './executor-stats.js';
import { LinkedQueue } from './linked-queue.js';
import { QueuedCall } from './queued-call.js';
import { WakeTimer } from './wake-timer.js';

export interface SubmitOptions {
  /** Aborting it cancels the call: a queued call leaves the queue, a running one is aborted. */
  signal?: AbortSignal;
}

export interface CloseOptions {
  /** true: finish queued and running work first; false: cancel queued, abort running. @default true */
  drain?: boolean;
  /** With `drain`, cancel whatever is still unfinished after this many ms. @default Infinity */
  timeoutMs?: number;
}

type Entry = QueuedCall;
// A service's chunk type does not matter to `call`, nor its result type to `stream`; `any`
// lets a fully typed service fit both (its callbacks make those parameters contravariant).
type AnyChunk = any;
type AnyResult = any;


/**
 * Takes service calls, holds them in a bounded FIFO queue, admits them under request and token
 * rate limits, a concurrency limit and each call's deadline, runs them through the middleware
 * onion and dispatches the work onto a pool. Every accepted call settles exactly once.
 *
 * `submit`, `stream` and `call` refuse a call they cannot accept at once: `submit` and `stream`
 * throw (`QueueFullError`, `ClosedError`, `ValidationError`, or a non-retryable `RateLimitError`
 * for a token estimate over a whole window), and `call` returns a promise rejected with it.
 */
export class Executor {
  readonly #cfg: ResolvedConfig<Middleware>;
  readonly #pool: Pool;
  readonly #inline: InlinePool | undefined;
  /** The worker pools' engine, when that is the pool: calls skip the AbortSignal. */
  readonly #channels: ChannelPool | undefined;
  /** No middleware: calls go straight to the terminal. */
  readonly #bare: boolean;
  readonly #limiter: Limiter | undefined;
  readonly #chain: Chain;
  readonly #queue = new LinkedQueue<Entry>();
  readonly #deadlines = new DeadlineHeap<Entry>();
  readonly #running = new Set<Entry>();
  readonly #events = new EventEmitter();
  readonly #stats: StatsCollector;
  readonly #wake = new WakeTimer(() => this.#pump(true));
  readonly #deadlineTimer = new WakeTimer(() => this.#expire());
  #acquiring = false;
  /** When the pending answer of an asynchronous limiter was asked for. */
  #acquiringSince = 0;
  /** The limiter's store said "unavailable" and has not admitted anything since. */
  #limiterUnavailable = false;
  /** Which events have listeners, so the hot path builds no event object nobody reads. */
  readonly #listening = { queueFull: false, rateLimited: false, admitted: false, settled: false };
  #closed = false;
  #closing: Promise<void> | undefined;
  #idle: (() => void)[] = [];

  constructor(config: ExecutorConfig<Middleware> = {}) {
    this.#cfg = resolveConfig(config);
    this.#events.setMaxListeners(0);
    // 'newListener' fires before the listener is added; 'removeListener' after it is gone.
    this.#events.on('newListener', (name: string | symbol) => {
      if (name in this.#listening) this.#listening[name as ExecutorEventName] = true;
    });
    this.#events.on('removeListener', (name: string | symbol) => {
      if (name in this.#listening) this.#listening[name as ExecutorEventName] = this.#events.listenerCount(name) > 0;
    });
    this.#stats = new StatsCollector(this.#cfg.historySize);
    this.#limiter = createLimiter(this.#cfg.limits);
    this.#pool = createPool(this.#cfg.pool);
    this.#inline = this.#pool instanceof InlinePool ? this.#pool : undefined;
    this.#channels = this.#pool instanceof ChannelPool ? this.#pool : undefined;
    this.#bare = this.#cfg.middleware.every((mw) => typeof mw.call !== 'function');
    this.#chain = compose(this.#cfg.middleware, { call: this.#terminalCall, stream: this.#terminalStream });
    for (const mw of this.#cfg.middleware) mw.attach?.(this);
  }

  /** The pool's kind (`piscina`, `tinypool` or `inline`). */
  get poolKind(): Pool['kind'] {
    return this.#pool.kind;
  }

  /** Calls waiting for admission. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Calls and streams holding a concurrency slot. */
  get running(): number {
    return this.#running.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Accepts a call and returns its `ServiceCall` (see the class doc for what it refuses). */
  submit<Req, Res>(service: Service<Req, Res, AnyChunk>, request: Req, ctx?: CallContext, options?: SubmitOptions): ServiceCall<Unwrapped<Res>> {
    return this.#accept(service as Service, request, ctx, options, 'call') as ServiceCall as ServiceCall<Unwrapped<Res>>;
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

  /** Counters, queue-wait and run-time percentiles (ms), and the last settled calls. */
  stats(): ExecutorStats {
    return this.#stats.snapshot(this.#queue.size, this.#running.size, scrubHistory);
  }

  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void> {
    if (this.#queue.size === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops accepting calls (`submit` then throws `ClosedError`), then either drains (default) or
   * cancels queued calls and aborts running ones; finally closes middleware, limiter and pool.
   * Leaves no timers, threads or sockets behind. Calling it again returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    const drain = options.drain ?? true;
    this.#closing = (async () => {
      if (drain) {
        const idle = this.onIdle();
        const limit = options.timeoutMs ?? Infinity;
        if (Number.isFinite(limit)) {
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, limit)));
          await Promise.race([idle, late]);
          clearTimeout(timer);
        } else {
          await idle;
        }
      }
      this.#cancelAll(new CancelledError('executor closed'));
      this.#wake.cancel();
      this.#deadlineTimer.cancel();
      await Promise.all(this.#cfg.middleware.map((mw) => mw.close?.()));
      await this.#limiter?.close();
      await this.#pool.close();
    })();
    return this.#closing;
  }

  #accept(service: Service, request: unknown, ctx: CallContext | undefined, options: SubmitOptions | undefined, kind: 'call' | 'stream'): Entry {
    if (this.#closed) {
      this.#stats.rejected.closed++;
      throw new ClosedError(this.#closing ? 'executor is closed; no new calls are accepted' : undefined);
    }
    if (typeof service !== 'object' || service === null || typeof service.name !== 'string') {
      this.#stats.rejected.invalid++;
      throw new ConfigError('service', [{ path: '/', rule: 'type', message: 'must be a service made with defineService()' }]);
    }
    const context = ctx ?? CallContext.new('default');
    if (!(context instanceof CallContext)) {
      this.#stats.rejected.invalid++;
      throw new ValidationError('call context', [{ path: '/', rule: 'instanceOf', message: 'must be a CallContext (CallContext.new or CallContext.withTimeout)' }]);
    }
    if (service.module === undefined && this.#inline === undefined) {
      this.#stats.rejected.invalid++;
      throw new ConfigError(`service '${service.name}'`, [{ path: '/module', rule: 'required', message: `an in-process \`handler\` runs only on the inline pool; this executor's pool is '${this.#pool.kind}': give the service a handler \`module\`` }]);
    }
    const check = service.validateRequest;
    if (check !== undefined && this.#cfg.validateRequests && !check(request)) {
      this.#stats.rejected.invalid++;
      throw new ValidationError(`request for '${service.name}'`, check.issues());
    }
    const tokens = service.estimateTokens === undefined ? 0 : service.estimateTokens(request);
    if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
      this.#stats.rejected.invalid++;
      throw new ValidationError(`token estimate for '${service.name}'`, [{ path: '/estimateTokens', rule: 'minimum', message: `must return a finite number >= 0, got ${String(tokens)}` }]);
    }
    if (this.#limiter !== undefined) {
      try {
        this.#limiter.check(tokens);
      } catch (err) {
        this.#stats.rejected.overLimit++;
        throw err;
      }
    }
    const capacity = this.#cfg.queueCapacity;
    if (this.#queue.size >= capacity) {
      this.#stats.rejected.queueFull++;
      if (this.#listening.queueFull) this.#emit('queueFull', { service: service.name, capacity, ctx: context });
      throw new QueueFullError(capacity, { context: { service: service.name } });
    }

    const t = now();
    const entry = new QueuedCall(service, request, context, tokens, t);
    this.#stats.accepted++;
    entry.markQueued(t);
    if (kind === 'stream') entry.stream = new CallStream(entry, this.#streamOwner(entry));

    const signal = options?.signal;
    if (signal?.aborted) {
      this.#finish(entry, 'CANCELLED', cancelled(signal.reason));
      return entry;
    }
    if (context.deadline !== undefined) {
      if (t >= context.deadline) {
        this.#finish(entry, 'FAILED', new DeadlineExceededError('queued'));
        return entry;
      }
      entry.deadline = context.deadline;
      this.#deadlines.push(entry);
      this.#deadlineTimer.at(this.#deadlines.peek()!.deadline);
    }
    if (signal) {
      const listener = () => this.#cancel(entry, cancelled(signal.reason));
      entry.userAbort = { signal, listener };
      signal.addEventListener('abort', listener, { once: true });
    }
    this.#queue.push(entry);
    this.#pump(false);
    return entry;
  }

  /**
   * Admits from the head of the queue while a concurrency slot is free and the limiter agrees.
   * When the limiter says "not yet", one timer is set for the exact instant it names; until
   * then nothing polls (`force` is the timer firing, or the head having changed).
   */
  #pump(force: boolean): void {
    if (this.#acquiring || (!force && this.#wake.armed)) return;
    const limiter = this.#limiter;
    const concurrency = this.#cfg.concurrency;
    while (this.#running.size < concurrency) {
      const head = this.#queue.head;
      if (head === undefined) break;
      const t = now();
      if (limiter !== undefined) {
        const got = limiter.acquire(head.tokens, t);
        if (got instanceof Promise) {
          this.#acquiring = true;
          this.#acquiringSince = t;
          got.then(
            (r) => this.#acquired(head, r),
            (err: unknown) => this.#acquired(head, { admitted: false, retryInMs: 100, reason: 'unavailable' }, err),
          );
          return;
        }
        if (!got.admitted) {
          this.#defer(head, got);
          return;
        }
        head.ticket = got.ticket;
      }
      this.#queue.remove(head);
      this.#start(head, t);
    }
  }

  /** The answer of an asynchronous limiter (a shared store) for `head`. */
  #acquired(head: Entry, r: Acquisition, _err?: unknown): void {
    this.#acquiring = false;
    if (r.admitted) {
      if (head.inQueue) {
        head.ticket = r.ticket;
        this.#queue.remove(head);
        this.#start(head, now());
      } else {
        // Settled while we asked (cancelled, expired): give the tokens back; the slot is
        // placed now (never released, see Limiter.sent).
        this.#reconcile(r.ticket, 0, head.tokens);
        this.#sent(r.ticket, now());
      }
      this.#pump(true);
    } else if (head.inQueue && this.#queue.head === head) {
      this.#defer(head, r);
    } else {
      this.#pump(true);
    }
  }

  #defer(head: Entry, r: Extract<Acquisition, { admitted: false }>): void {
    if (head.deferReason === undefined) {
      this.#stats.rateLimitedWaits++;
      if (this.#listening.rateLimited) {
        this.#emit('rateLimited', { service: head.service, callId: head.id, ctx: head.ctx, waitMs: r.retryInMs, reason: r.reason });
      }
    }
    head.deferReason = r.reason;
    this.#limiterUnavailable = r.reason === 'unavailable';
    this.#wake.at(now() + Math.max(0, r.retryInMs));
  }

  #start(entry: Entry, t: number): void {
    this.#limiterUnavailable = false;
    entry.markExecuting(t);
    this.#stats.queueWait.recordMs(t - entry.queuedAt!);
    entry.deferReason = undefined;
    this.#running.add(entry);
    if (this.#listening.admitted) this.#emit('admitted', { service: entry.service, callId: entry.id, at: t, queueWaitMs: t - entry.queuedAt! });
    if (entry.kind === 'stream') {
      let source: AsyncIterable<unknown>;
      try {
        source = this.#chain.stream(invocation(entry));
      } catch (err) {
        source = failing(err);
      }
      entry.stream!.begin(source);
      return;
    }
    if (this.#bare) {
      // Without middleware the onion is just the terminal: no invocation, one promise hop.
      let out: unknown;
      this.#sentOnce(entry, now());
      try {
        out = this.#run(entry, entry.request);
      } catch (err) {
        out = Promise.reject(err);
      }
      if (out instanceof Promise) {
        out.then(
          (raw) => this.#completed(entry, raw),
          (e: unknown) => this.#failed(entry, e),
        );
      } else {
        // Settle on a later microtask, never inside submit(): a queue of synchronous
        // handlers must not recurse through finish -> pump -> start.
        onMicrotask(() => this.#completed(entry, out));
      }
      return;
    }
    let p: Promise<unknown>;
    try {
      p = this.#chain.call(invocation(entry));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (v) => this.#finish(entry, 'COMPLETED', v),
      (e: unknown) => this.#finish(entry, statusOf(e), e),
    );
  }

  #completed(entry: Entry, raw: unknown): void {
    let value: unknown;
    try {
      value = this.#result(entry, raw, entry.ticket);
    } catch (err) {
      this.#finish(entry, statusOf(err), err);
      return;
    }
    this.#finish(entry, 'COMPLETED', value);
  }

  #failed(entry: Entry, err: unknown): void {
    this.#onUpstreamError(err);
    this.#finish(entry, statusOf(err), err);
  }

  #streamOwner(entry: Entry) {
    return {
      stop: (reason: unknown) => this.#cancel(entry, cancelled(reason)),
      end: (error?: unknown) => {
        if (error === undefined) this.#finish(entry, 'COMPLETED', undefined);
        else this.#finish(entry, statusOf(error), error);
      },
    };
  }

  /** The innermost layer of the onion for calls: rate capacity for retries, the pool, meta. */
  readonly #terminalCall = (inv: Invocation): Promise<unknown> => {
    const entry = inv.call as Entry;
    if (entry.settled) return Promise.reject(entry.error);
    if (inv.attempt > 1 && this.#limiter !== undefined) {
      return this.#readmit(entry, inv.signal).then((ticket) => this.#dispatch(entry, inv.request, ticket));
    }
    return this.#dispatch(entry, inv.request, entry.ticket);
  };

  /** Hands the work to the pool: a value or a promise (the inline pool may answer synchronously). */
  #run(entry: Entry, request: unknown): unknown {
    const ctx = handlerContext(entry);
    // The executor settles a call the moment it is aborted, so the inline pool needs no abort race.
    if (this.#inline !== undefined) return this.#inline.invoke(entry.svc, request, ctx, entry);
    const task = { service: entry.svc, request, ctx };
    return this.#channels !== undefined ? this.#channels.invoke(task, entry) : this.#pool.call(task, entry.signal);
  }

  #dispatch(entry: Entry, request: unknown, ticket: Ticket): Promise<unknown> {
    let out: unknown;
    if (ticket === entry.ticket) this.#sentOnce(entry, now());
    else this.#sent(ticket, now());
    try {
      out = this.#run(entry, request);
    } catch (err) {
      this.#onUpstreamError(err);
      return Promise.reject(err);
    }
    if (!(out instanceof Promise)) return new Promise((resolve) => resolve(this.#result(entry, out, ticket)));
    return out.then(
      (raw) => this.#result(entry, raw, ticket),
      (err: unknown) => {
        this.#onUpstreamError(err);
        throw err;
      },
    );
  }

  /** A handler's raw result: unwraps its envelope, reconciles the token window with its usage. */
  #result(entry: Entry, raw: unknown, ticket: Ticket): unknown {
    let value = raw;
    let used: number | undefined;
    if (isEnvelope(raw)) {
      value = raw.value;
      used = this.#meta(raw[META], ticket);
    }
    if (used === undefined && entry.svc.tokensFromResult !== undefined) used = entry.svc.tokensFromResult(value);
    if (used !== undefined) this.#reconcile(ticket, used, entry.tokens);
    return value;
  }

  /** The innermost layer for streams: unwraps chunk envelopes and reconciles token usage. */
  readonly #terminalStream = (inv: Invocation): AsyncIterable<unknown> => {
    const entry = inv.call as Entry;
    if (entry.settled) return failing(entry.error);
    return this.#streamFromPool(entry, inv);
  };

  async *#streamFromPool(entry: Entry, inv: Invocation): AsyncGenerator<unknown> {
    const ticket = inv.attempt > 1 && this.#limiter !== undefined ? await this.#readmit(entry, inv.signal) : entry.ticket;
    if (ticket === entry.ticket) this.#sentOnce(entry, now());
    else this.#sent(ticket, now());
    const source = this.#pool.stream({ service: entry.svc, request: inv.request, ctx: handlerContext(entry) }, entry.signal);
    const fromChunk = entry.svc.tokensFromChunk;
    let used: number | undefined;
    try {
      for await (const raw of source) {
        let value = raw;
        if (isEnvelope(raw)) {
          const u = this.#meta(raw[META], ticket);
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
      this.#onUpstreamError(err);
      throw err;
    } finally {
      if (used !== undefined) this.#reconcile(ticket, used, entry.tokens);
    }
  }

  #meta(meta: ResultMeta, ticket: Ticket): number | undefined {
    if (meta.providerLimits !== undefined) this.#limiter?.observe(meta.providerLimits, ticket);
    return meta.usage?.tokens;
  }

  /**
   * Reports to the limiter that the request of `ticket` left at `t` (only the first report of a
   * ticket counts). Placeholder until the pools report the real send instant: the dispatch to
   * the pool, or the settle instant of a call that never got there.
   */
  #sentOnce(entry: Entry, t: number): void {
    if (entry.ticketSent) return;
    entry.ticketSent = true;
    this.#sent(entry.ticket, t);
  }

  #sent(ticket: Ticket, t: number): void {
    if (ticket === undefined || this.#limiter?.sent === undefined) return;
    const r = this.#limiter.sent(ticket, t);
    if (r instanceof Promise) r.catch(noop);
  }

  #reconcile(ticket: Ticket, used: number, estimated: number): void {
    if (this.#limiter === undefined || ticket === undefined) return;
    const r = this.#limiter.reconcile(ticket, used);
    if (r instanceof Promise) r.catch(noop);
    else if (used < estimated && this.#wake.armed) {
      // A refund may let the waiting head in now rather than when the timer said.
      this.#wake.cancel();
      this.#pump(true);
    }
  }

  /** A 429 with retry-after pauses admissions for every call, not only the one that got it. */
  #onUpstreamError(err: unknown): void {
    if (err instanceof RateLimitError && err.retryAfterMs !== undefined && err.retryAfterMs > 0) this.#limiter?.pause(err.retryAfterMs);
  }

  /** Rate capacity for a retry attempt: waits (abortably, within the deadline) for the limiter. */
  async #readmit(entry: Entry, signal: AbortSignal): Promise<Ticket> {
    const limiter = this.#limiter!;
    for (;;) {
      signal.throwIfAborted();
      const r = await limiter.acquire(entry.tokens);
      if (r.admitted) return r.ticket;
      const left = entry.ctx.remainingMs();
      if (r.retryInMs >= left) throw new DeadlineExceededError('retry', { context: { waitMs: r.retryInMs, remainingMs: left } });
      await sleep(r.retryInMs, signal);
    }
  }

  #cancel(entry: Entry, err: CallpoolError): void {
    if (entry.settled) return;
    entry.abort(err);
    this.#finish(entry, 'CANCELLED', err);
  }

  /** Fails every queued or running call whose deadline has passed, at that moment. */
  #expire(): void {
    const t = now();
    for (let e = this.#deadlines.peek(); e !== undefined && e.deadline <= t; e = this.#deadlines.peek()) {
      this.#deadlines.pop();
      if (e.running) {
        const err = new DeadlineExceededError('running');
        e.abort(err);
        this.#finish(e, 'FAILED', err);
      } else {
        // Every queued call waits on the same limiter: while it is unreachable, that is why they
        // expire; while its store has yet to answer (it may be about to time out), say so.
        const err =
          e.deferReason === 'unavailable' || this.#limiterUnavailable
            ? new LimiterUnavailableError('the shared rate limiter was unreachable until the call\'s deadline passed')
            : this.#acquiring
              ? new DeadlineExceededError('queued', { context: { waitingFor: 'store', storePendingMs: Math.round(t - this.#acquiringSince) } })
              : new DeadlineExceededError('queued', e.deferReason === undefined ? undefined : { context: { waitingFor: e.deferReason } });
        this.#finish(e, 'FAILED', err);
      }
    }
    const next = this.#deadlines.peek();
    if (next !== undefined) this.#deadlineTimer.at(next.deadline);
  }

  /** Settles a call exactly once and releases whatever it held. */
  #finish(entry: Entry, status: 'COMPLETED' | 'FAILED' | 'CANCELLED', outcome: unknown): void {
    const call = entry;
    if (call.settled) return;
    const t = now();
    const wasHead = this.#queue.head === entry;
    this.#queue.remove(entry);
    this.#deadlines.remove(entry);
    if (entry.userAbort !== undefined) entry.userAbort.signal.removeEventListener('abort', entry.userAbort.listener);
    const wasRunning = entry.running;
    this.#sentOnce(entry, t);
    if (wasRunning) {
      this.#running.delete(entry);
      this.#stats.runTime.recordMs(t - call.startedAt!);
    }
    const stats = this.#stats;
    if (status === 'COMPLETED') {
      stats.completed++;
      call.complete(outcome, t);
    } else {
      if (status === 'CANCELLED') stats.cancelled++;
      else stats.failed++;
      if (outcome instanceof DeadlineExceededError) stats.deadlineExceeded++;
      call.fail(outcome, status, t);
      if (!wasRunning) entry.stream?.refuse(outcome);
    }
    stats.remember(call);
    if (this.#listening.settled) {
      this.#emit('settled', { service: entry.service, callId: call.id, status, runMs: wasRunning ? t - call.startedAt! : 0, ...(status === 'COMPLETED' ? {} : { error: outcome }) });
    }
    if (wasHead) {
      this.#wake.cancel();
      this.#pump(true);
    } else if (wasRunning) {
      this.#pump(false);
    }
    if (this.#idle.length > 0 && this.#queue.size === 0 && this.#running.size === 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const w of waiters) w();
    }
  }

  #cancelAll(err: CallpoolError): void {
    for (const e of [...this.#queue]) this.#finish(e, 'CANCELLED', err);
    for (const e of [...this.#running]) this.#cancel(e, err);
  }

  #emit<K extends ExecutorEventName>(event: K, payload: ExecutorEventMap[K]): void {
    try {
      this.#events.emit(event, payload);
    } catch {
      // A throwing listener must not break the executor's bookkeeping.
    }
  }
}

/** The invocation handed to the onion; its `signal` is only made when someone reads it. */
function invocation(entry: Entry): Invocation {
  return {
    kind: entry.kind,
    service: entry.svc,
    request: entry.request,
    ctx: entry.ctx,
    call: entry,
    attempt: 1,
    get signal() {
      return entry.signal;
    },
  };
}

function handlerContext(entry: Entry): HandlerContext {
  const ctx = entry.ctx;
  return {
    callId: ctx.callId,
    branchId: ctx.branchId,
    deadlineEpochMs: ctx.deadline === undefined ? null : toEpoch(ctx.deadline),
    capabilities: ctx.capabilities as string[],
    attrs: ctx.attrs as Record<string, unknown>,
    options: entry.svc.options,
  };
}

function statusOf(err: unknown): 'FAILED' | 'CANCELLED' {
  return err instanceof CancelledError ? 'CANCELLED' : 'FAILED';
}

function cancelled(reason: unknown): CallpoolError {
  if (reason instanceof CancelledError || reason instanceof DeadlineExceededError) return reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted by the caller';
  return new CancelledError(text, { cause: reason });
}


async function* failing(err: unknown): AsyncGenerator<never> {
  throw err;
}

/** Stats leave the process (logs, dashboards): error messages in history are scrubbed of secrets. */
function scrubHistory(d: ServiceCallData): ServiceCallData {
  return d.error === null ? d : { ...d, error: { code: d.error.code, message: redact.string(d.error.message) } };
}

function noop(): void {}
