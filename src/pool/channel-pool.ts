import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { AbortHandle } from '../core/abort-handle.js';
import { fromMachine } from '../core/clock.js';
import { ClosedError, ConfigError, deserializeError, serializeError, ValidationError, WorkerCrashError } from '../core/errors.js';
import { noop } from '../core/noop.js';
import type { Service } from '../core/service.js';
import type { ResultDecoder } from './codec.js';
import { PendingCall, PendingStream, type Pending, type Slot } from './in-flight.js';
import { classInstanceIn } from './plain-data.js';
import { Outbox } from './outbox.js';
import { callRequest, Flag, handlerRunning, Op, Progress, Reply, Req, streamRequest, type FromWorker, type ToWorker } from './protocol.js';
import { StreamChannel, type StreamOutcome } from './stream-channel.js';
import { PendingTable } from './pending-table.js';
import type { Pool, PoolTask } from './types.js';
import type { WorkerHost } from './worker-host.js';

export interface ChannelPoolOptions {
  /** Worker threads. @default os.availableParallelism() */
  threads?: number;
  /** Chunks a stream's producer may have in flight. @default 64 */
  streamCredit?: number;
  /** How long an aborted handler may run on before its worker is terminated. @default 1000 */
  abortGraceMs?: number;
  /** How long (µs) a worker that ran out of work polls for the next call before it sleeps. @default 50 */
  idleSpinUs?: number;
}

/** Sessions that may die before saying ready, in a row, before the pool gives up respawning. */
const MAX_FAILED_STARTS = 3;

/** What a worker pool is built from: its host library's adapter, and the codec for packed results. */
export interface WorkerBackend {
  readonly host: WorkerHost;
  readonly decode: ResultDecoder;
}

/**
 * The worker pool behind `kind: 'piscina'` and `kind: 'tinypool'`. The host library keeps the
 * workers alive (spawn, replace, terminate); calls go over one control `MessageChannel` per
 * worker, batched (many calls per `postMessage`, many results back), to the least-loaded
 * worker. Streams get a `MessageChannel` each. A worker that dies fails only what it had
 * started; calls it had not started yet go to another worker. The backend may still be
 * loading (a dynamic import): calls wait in the workers' ports until the sessions start.
 */
export class ChannelPool implements Pool {
  readonly kind: string;
  readonly #backend: Promise<WorkerBackend>;
  #decode: ResultDecoder | undefined;
  readonly #streamCredit: number;
  readonly #graceMs: number;
  readonly #idleSpinUs: number;
  readonly #slots: Slot[] = [];
  #failedStarts = 0;
  readonly #restarts = { started: 0, lost: 0 };
  /** Terminated workers whose threads have yet to exit (see #sessionEnded). */
  readonly #exiting = new Set<Slot>();
  #broken: Error | undefined;
  #closed: Promise<void> | undefined;

  constructor(kind: string, backend: Promise<WorkerBackend>, options: ChannelPoolOptions = {}) {
    this.kind = kind;
    this.#backend = backend.then((b) => {
      this.#decode = b.decode;
      return b;
    });
    // A backend that fails to load ends each worker's start with the reason (see #spawn).
    this.#backend.catch(noop);
    const threads = options.threads ?? Math.max(1, availableParallelism());
    this.#streamCredit = options.streamCredit ?? 64;
    this.#graceMs = options.abortGraceMs ?? 1000;
    this.#idleSpinUs = options.idleSpinUs ?? 50;
    for (let i = 0; i < threads; i++) this.#slots.push(this.#spawn(i));
  }

  /** Worker threads the pool keeps. */
  get threads(): number {
    return this.#slots.length;
  }

  /**
   * Worker sessions that said ready, and workers lost since the pool started (crashed, or
   * terminated for a handler that ignored its abort past the grace period).
   */
  get workers(): { readonly started: number; readonly lost: number } {
    return this.#restarts;
  }

  run(task: PoolTask, handle: AbortHandle): Promise<unknown> {
    const refused = this.#refuse(task, handle);
    if (refused !== undefined) return Promise.reject(refused);
    return new Promise<unknown>((resolve, reject) => {
      const pending = new PendingCall(callRequest(task.service.module!, task.request, task.ctx, (task.onSent === undefined ? 0 : Flag.REPORT_SENT) | (task.service.abortable ? (task.service.lightSignal ? Flag.LIGHT_SIGNAL : 0) : Flag.NO_SIGNAL)), resolve, reject, handle, task.onSent, this.#abortCallBound);
      handle.onAbort(pending.onAbort);
      this.#dispatch(pending);
    });
  }

  stream(task: PoolTask, handle: AbortHandle): AsyncIterable<unknown> {
    const refused = this.#refuse(task, handle);
    if (refused !== undefined) return failing(refused);
    const { port1, port2 } = new MessageChannel();
    const pending = new PendingStream(streamRequest(task.service.module!, task.request, task.ctx, task.onSent === undefined ? 0 : Flag.REPORT_SENT, port2, this.#streamCredit), task.onSent);
    pending.channel = new StreamChannel(
      port1,
      this.#streamCredit,
      handle,
      (outcome) => this.#streamFinished(pending, outcome),
      () => this.#streamLost(pending),
    );
    this.#dispatch(pending);
    return pending.channel;
  }

  /** Resolves once every worker said ready and has loaded these services' handler modules. */
  async ready(services: readonly Service[] = []): Promise<void> {
    await this.#backend;
    const modules = [...new Set(services.map((s) => s.module).filter((m): m is string => m !== undefined))];
    await Promise.all(this.#slots.map((slot) => this.#warm(slot, modules)));
  }

  /** Waits for a worker's session to start, then has it load `modules` (a failed load is the calls' business, not ready's). */
  async #warm(slot: Slot, modules: readonly string[]): Promise<void> {
    if (!slot.ready && !slot.dead) await new Promise<void>((resolve) => slot.waiting.push(resolve));
    if (slot.dead) return;
    await Promise.all(
      modules.map(
        (module) =>
          new Promise<void>((resolve) => {
            const id = ++slot.nextId;
            slot.loads.set(id, resolve);
            slot.outbox.post([Op.Load, id, module]);
          }),
      ),
    );
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    const closed = new ClosedError('the pool is closed');
    for (const slot of [...this.#slots, ...this.#exiting]) {
      slot.dead = true;
      for (const p of slot.inflight.values()) this.#fail(p, closed);
      slot.inflight.clear();
      slot.outbox.post([Op.Close]);
      slot.outbox.flush();
    }
    // A backend that never loaded has no workers to end.
    const backend = await this.#backend.catch(() => undefined);
    await backend?.host.destroy();
    for (const slot of this.#slots) slot.port.close();
  }

  #refuse(task: PoolTask, handle: AbortHandle): unknown {
    if (this.#closed !== undefined) return new ClosedError('the pool is closed');
    if (this.#broken !== undefined) return new WorkerCrashError('worker threads fail to start', { cause: this.#broken });
    if (handle.aborted) return handle.reason;
    if (task.service.module === undefined) {
      return new ConfigError(`service '${task.service.name}'`, [
        { path: '/module', rule: 'required', message: `an in-process handler runs only on the inline pool, not on '${this.kind}'` },
      ]);
    }
    const instance = classInstanceIn(task.request);
    if (instance !== undefined) {
      return new ValidationError('request', [
        { path: `/request${instance.path}`, rule: 'structured-clone', message: `must be plain data to reach a worker thread: a ${instance.name} instance would arrive as a plain object, without its prototype, methods or private fields` },
      ]);
    }
    return undefined;
  }

  #dispatch(p: Pending): void {
    const slot = this.#pick();
    p.slot = slot;
    p.id = p.msg[Req.ID] = ++slot.nextId;
    slot.inflight.add(p);
    if (p.kind === 'call') slot.outbox.post(p.msg);
    else slot.outbox.post(p.msg, [p.msg[Req.PORT]]);
  }

  /** Sends a call or stream that a dead worker never started to another worker. */
  #redispatch(p: Pending): void {
    if (p.kind === 'stream') {
      // The stream's port went down with the worker's queue: the stream gets a new channel.
      const { port1, port2 } = new MessageChannel();
      p.channel.rebind(port1);
      p.msg[Req.PORT] = port2;
    }
    this.#dispatch(p);
  }

  /**
   * The live worker with the least in flight (one being terminated only if all are); ties go
   * to the lowest index, so a lone caller keeps one warm thread instead of waking each in turn.
   */
  #pick(): Slot {
    let best = this.#slots[0]!;
    let bestLoad = Infinity;
    for (const slot of this.#slots) {
      const load = slot.inflight.size + (slot.overdue ? 1e9 : 0);
      if (load < bestLoad) {
        best = slot;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  #spawn(index: number): Slot {
    const { port1, port2 } = new MessageChannel();
    const kill = new AbortController();
    const progress = new Float64Array(new SharedArrayBuffer(8 * Progress.SIZE));
    const slot: Slot = { index, port: port1, outbox: new Outbox(port1, (msg, err) => this.#unclonable(slot, msg, err)), inflight: new PendingTable(), progress, nextId: 0, kill, ready: false, dead: false, exited: false, overdue: false, crash: undefined, waiting: [], loads: new Map() };
    port1.on('message', (batch: FromWorker[]) => {
      for (const msg of batch) this.#onMessage(slot, msg);
    });
    // The port closes when its worker thread goes away, however it went: the one crash signal
    // every library gives (tinypool, for one, never settles a task whose thread exited).
    port1.on('close', () => {
      slot.exited = true;
      if (slot.dead) return;
      kill.abort();
      this.#sessionEnded(slot, new Error('the worker thread exited'));
    });
    this.#backend
      .then((b) => b.host.run({ port: port2, progress, idleSpinUs: this.#idleSpinUs }, [port2], kill.signal))
      .then(
        () => this.#sessionEnded(slot, new Error('the worker session ended unexpectedly')),
        (err: unknown) => this.#sessionEnded(slot, err),
      );
    return slot;
  }

  /** A request structured clone cannot copy fails alone; the rest of its batch goes on. */
  #unclonable(slot: Slot, msg: ToWorker, err: unknown): undefined {
    if (msg[0] !== Op.Call && msg[0] !== Op.Stream) return undefined;
    const p = slot.inflight.get(msg[Req.ID]);
    if (p === undefined) return undefined;
    slot.inflight.delete(p.id);
    const reason = err instanceof Error ? err.message : String(err);
    this.#fail(p, new ValidationError('request', [{ path: '/request', rule: 'structured-clone', message: `must be structured-clone-safe to reach a worker thread (${reason})` }], { cause: err }));
    return undefined;
  }

  #onMessage(slot: Slot, msg: FromWorker): void {
    if (msg[0] === Op.Ready) {
      slot.ready = true;
      this.#failedStarts = 0;
      this.#restarts.started++;
      for (const w of slot.waiting.splice(0)) w();
      for (const p of slot.inflight.values()) {
        if (p.graceDeferred) {
          p.graceDeferred = false;
          this.#startGrace(p);
        }
      }
      return;
    }
    const p = slot.inflight.get(msg[Reply.ID]);
    if (p === undefined) {
      if (msg[0] === Op.Done) this.#loaded(slot, msg[Reply.ID]);
      return;
    }
    if (msg[0] === Op.Sent) {
      p.onSent?.(fromMachine(msg[Reply.PAYLOAD]));
      return;
    }
    slot.inflight.delete(p.id);
    if (p.grace !== undefined) clearTimeout(p.grace);
    p.grace = undefined;
    if (slot.overdue) this.#maybeRecover(slot);
    if (p.kind !== 'call' || p.orphaned) return;
    settle(p);
    if (msg[0] === Op.Error) p.reject(deserializeError(msg[Reply.PAYLOAD]));
    else if (msg[0] === Op.Result) p.resolve(msg[Reply.PAYLOAD]);
    else if (msg[0] === Op.Packed) p.resolve(this.#decode!(msg[Reply.PAYLOAD]));
  }

  #loaded(slot: Slot, id: number): void {
    const done = slot.loads.get(id);
    slot.loads.delete(id);
    done?.();
  }

  readonly #abortCallBound = (p: PendingCall, reason: unknown): void => this.#abortCall(p, reason);

  #abortCall(p: PendingCall, reason: unknown): void {
    if (p.orphaned) return;
    settle(p);
    p.reject(reason);
    p.slot.outbox.post([Op.Cancel, p.id, serializeError(reason)]);
    this.#startGrace(p);
  }

  #streamFinished(p: PendingStream, outcome: StreamOutcome): void {
    if (outcome !== 'cancelled' || p.slot.dead || p.slot.inflight.get(p.id) !== p) return;
    p.orphaned = true;
    this.#startGrace(p);
  }

  /** A stream's port closed under it: its worker died. One it never started waits to move on. */
  #streamLost(p: PendingStream): void {
    if (p.slot.progress[Progress.RECEIVED]! < p.id) return;
    p.slot.inflight.delete(p.id);
    p.channel.fail(new WorkerCrashError('the stream failed because its worker went away', { cause: p.slot.crash }));
  }

  /**
   * An aborted handler gets `abortGraceMs` to finish; then its worker is terminated. The time
   * counts from when the worker can act on the cancel: a worker still starting runs no handler,
   * so its start, however slow, never counts against the grace period.
   */
  #startGrace(p: Pending): void {
    if (!p.slot.ready) {
      p.graceDeferred = true;
      return;
    }
    p.grace = setTimeout(() => {
      p.grace = undefined;
      if (p.slot.dead) return;
      // Its handler has not started (its worker, busy loading a module, answers the cancel
      // once it reads it) or has finished (its answer is on the way): nothing to terminate.
      if (!handlerRunning(p.slot.progress, p.id)) return this.#startGrace(p);
      p.slot.overdue = true;
      p.slot.kill.abort();
    }, this.#graceMs);
    p.grace.unref();
  }

  /** A worker marked for termination whose handlers all finished after all is kept. */
  #maybeRecover(slot: Slot): void {
    if (slot.kill.signal.aborted) return;
    for (const p of slot.inflight.values()) if (p.orphaned) return;
    slot.overdue = false;
  }

  #sessionEnded(slot: Slot, reason: unknown): void {
    if (slot.dead) return;
    slot.dead = true;
    slot.crash = reason;
    if (this.#closed === undefined) this.#restarts.lost++;
    for (const w of slot.waiting.splice(0)) w();
    for (const done of slot.loads.values()) done();
    slot.loads.clear();
    // A worker this pool terminates may still take a call in the instant before it stops: which
    // calls it took is known once its thread is gone and its port closes. New calls go to its
    // replacement meanwhile.
    if (slot.overdue && !slot.exited) {
      this.#exiting.add(slot);
      slot.port.once('close', () => {
        this.#exiting.delete(slot);
        this.#settleLeft(slot, reason);
      });
      if (this.#closed === undefined) this.#slots[slot.index] = this.#spawn(slot.index);
      return;
    }
    this.#settleLeft(slot, reason);
  }

  /**
   * What a dead worker leaves: the answers it sent are read and settle their calls; a call it
   * never took goes to its replacement; the rest fail.
   */
  #settleLeft(slot: Slot, reason: unknown): void {
    // A closed port delivered what it held before it closed (reading one is not safe: Node 20
    // crashes).
    if (!slot.exited) {
      for (let m = receiveMessageOnPort(slot.port); m !== undefined; m = receiveMessageOnPort(slot.port)) {
        for (const msg of m.message as FromWorker[]) this.#onMessage(slot, msg);
      }
      slot.port.close();
    }
    const why = slot.overdue
      ? `its worker was terminated: a handler ignored its abort signal for ${this.#graceMs} ms`
      : `its worker crashed (${describe(reason)})`;
    const err = new WorkerCrashError(`the call failed because ${why}`, { cause: reason });
    const started = slot.progress[Progress.RECEIVED]!;
    const unstarted: Pending[] = [];
    for (const p of slot.inflight.values()) {
      if (!p.orphaned && p.id > started) unstarted.push(p);
      else if (p.kind === 'call' || p.orphaned) this.#fail(p, err);
      // A started stream fails after the chunks sent before the crash: on its own port's
      // 'close', or, should that never come, here on the next turn.
      else setImmediate(() => p.channel.lost(new WorkerCrashError('the stream failed because its worker went away', { cause: reason })));
    }
    slot.inflight.clear();
    // close() failed every call of every worker, exiting ones included, before this could run.
    if (this.#closed !== undefined) return;
    // Only a worker that died on its own before saying ready is a failed start.
    if (!slot.ready && !slot.overdue && ++this.#failedStarts >= MAX_FAILED_STARTS) {
      this.#broken = reason instanceof Error ? reason : new Error(describe(reason));
      for (const p of unstarted) this.#fail(p, new WorkerCrashError('worker threads fail to start', { cause: reason }));
      return;
    }
    if (this.#slots[slot.index] === slot) this.#slots[slot.index] = this.#spawn(slot.index);
    for (const p of unstarted) this.#redispatch(p);
  }

  #fail(p: Pending, err: unknown): void {
    if (p.grace !== undefined) clearTimeout(p.grace);
    p.grace = undefined;
    if (p.kind === 'stream') return p.channel.fail(err);
    if (p.orphaned) return;
    settle(p);
    p.reject(err);
  }
}

/** Marks a call settled on this side and stops listening for its abort. */
function settle(p: PendingCall): void {
  p.orphaned = true;
  p.handle.offAbort(p.onAbort);
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}

function failing(err: unknown): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(err),
      return: () => Promise.resolve({ done: true, value: undefined }),
    }),
  };
}
