import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { fromMachine } from '../core/clock.js';
import { childExecArgv, fromSource } from '../core/source-mode.js';
import { deserializeError, type SerializedError } from '../core/errors.js';
import type { MockUpstreamOptions, MockUpstreamStats } from './mock-upstream.js';

export type UpstreamRequest = { t: 'collect' } | { t: 'clear' } | { t: 'close' };
export type UpstreamReply =
  | { t: 'ready'; url: string; baseURL: string; pid: number }
  | { t: 'collected'; times: Float64Array; total: number; capacity: number; stats: MockUpstreamStats; loopDelayMaxMs: number; nice: number | null; realtime: boolean | null }
  | { t: 'cleared' }
  | { t: 'closed' }
  | { t: 'error'; error: SerializedError };

export interface Arrivals {
  /** Arrival times on this thread's monotonic clock, oldest first. */
  times: Float64Array;
  /** Arrivals ever recorded, and how many the log keeps. */
  total: number;
  capacity: number;
  stats: MockUpstreamStats;
  /** The upstream's longest event-loop delay (how late a timer due every 10 ms ran): how late its stamps can be. */
  loopDelayMaxMs: number;
  /** The upstream thread's nice value: -10 when it could be lowered, else 0 (null: no per-thread priority here). */
  nice: number | null;
  /** Whether the upstream thread ran real-time (SCHED_FIFO) (null: not known here). */
  realtime: boolean | null;
  /** Where the upstream ran: a thread of this process, or a process of its own. */
  isolation: UpstreamIsolation;
}

/** What the upstream thread is started with. */
export interface UpstreamWorkerData {
  options: MockUpstreamOptions;
  realtime: boolean;
}

/** A thread of this process, or a child process: it then shares no heap, allocator or lock with the measured one. */
export type UpstreamIsolation = 'thread' | 'process';

/** What the harness needs of a worker thread or a child process alike. */
type Peer = Worker | ChildProcess;

/**
 * The mock upstream on a thread of its own, so that it is an independent observer: a pause of
 * the main thread (a GC, a burst of callbacks) does not bunch up its arrival timestamps, and
 * serving HTTP does not compete with the executor for the main event loop.
 */
export class UpstreamThread {
  readonly #worker: Peer;
  #waiting: ((msg: UpstreamReply) => void) | undefined;

  /** @param pid the process the upstream runs in (this one's, on a thread) */
  private constructor(worker: Peer, readonly isolation: UpstreamIsolation, readonly url: string, readonly baseURL: string, readonly pid: number) {
    this.#worker = worker;
    worker.on('message', (msg: UpstreamReply) => this.#waiting?.(msg));
  }

  /**
   * @param realtime run the upstream real-time where the OS permits it (see upstream-worker.ts);
   *   default: unless the environment sets `CALLPOOL_OBSERVER_REALTIME=0`
   * @param isolation a thread of this process, or a process of its own; default: the
   *   environment's `CALLPOOL_OBSERVER` (`thread` or `process`), else `thread`
   */
  static start(
    options: MockUpstreamOptions,
    { realtime = process.env['CALLPOOL_OBSERVER_REALTIME'] !== '0', isolation = defaultIsolation() }: { realtime?: boolean; isolation?: UpstreamIsolation } = {},
  ): Promise<UpstreamThread> {
    const worker = isolation === 'process' ? spawnProcess({ options, realtime }) : spawn({ options, realtime });
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => {
        stop(worker);
        reject(err);
      };
      const exited = () => fail(new Error('the upstream exited before it was ready'));
      worker.once('error', fail);
      worker.once('exit', exited);
      worker.once('message', (msg: UpstreamReply) => {
        worker.off('error', fail);
        worker.off('exit', exited);
        if (msg.t === 'ready') resolve(new UpstreamThread(worker, isolation, msg.url, msg.baseURL, msg.pid));
        else if (msg.t === 'error') fail(deserializeError(msg.error));
        else fail(new Error(`unexpected message from the upstream: ${msg.t}`));
      });
    });
  }

  /** The arrival log and counters, as of now. */
  async collect(): Promise<Arrivals> {
    const msg = await this.#ask({ t: 'collect' }, 'collected');
    const times = msg.times;
    for (let i = 0; i < times.length; i++) times[i] = fromMachine(times[i]!);
    return { times, total: msg.total, capacity: msg.capacity, stats: msg.stats, loopDelayMaxMs: msg.loopDelayMaxMs, nice: msg.nice, realtime: msg.realtime, isolation: this.isolation };
  }

  /** Forgets the arrivals and the longest event-loop delay so far (between runs on one upstream). */
  async clear(): Promise<void> {
    await this.#ask({ t: 'clear' }, 'cleared');
  }

  /** Stops the server, then the thread or process (ended if it does not end on its own within a second). */
  async close(): Promise<void> {
    if (!alive(this.#worker)) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    await this.#ask({ t: 'close' }, 'closed').catch(() => undefined);
    const timer = setTimeout(() => stop(this.#worker), 1000);
    await exited;
    clearTimeout(timer);
  }

  #ask<K extends UpstreamReply['t']>(msg: UpstreamRequest, answer: K): Promise<Extract<UpstreamReply, { t: K }>> {
    return new Promise((resolve, reject) => {
      const onError = (err: unknown) => {
        done();
        reject(err);
      };
      const onExit = () => onError(new Error('the upstream exited'));
      const done = () => {
        this.#waiting = undefined;
        this.#worker.off('error', onError);
        this.#worker.off('exit', onExit);
      };
      this.#worker.once('error', onError);
      this.#worker.once('exit', onExit);
      this.#waiting = (reply) => {
        if (reply.t !== answer) return;
        done();
        resolve(reply as Extract<UpstreamReply, { t: K }>);
      };
      if (this.#worker instanceof Worker) this.#worker.postMessage(msg);
      else this.#worker.send(msg);
    });
  }
}

function defaultIsolation(): UpstreamIsolation {
  return process.env['CALLPOOL_OBSERVER'] === 'process' ? 'process' : 'thread';
}

function alive(peer: Peer): boolean {
  return peer instanceof Worker ? peer.threadId !== -1 : peer.exitCode === null && peer.signalCode === null;
}

function stop(peer: Peer): void {
  if (peer instanceof Worker) void peer.terminate();
  else peer.kill();
}

/**
 * The same module as a child process: its data in argv, its messages over IPC with the
 * structured-clone serialization (the arrival log is a Float64Array). From the TypeScript
 * source it runs under tsx.
 */
function spawnProcess(data: UpstreamWorkerData): ChildProcess {
  return fork(workerModule(), [JSON.stringify(data)], {
    serialization: 'advanced',
    execArgv: [...childExecArgv(), `--max-semi-space-size=${OBSERVER_YOUNG_GEN_MB}`],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * The observer's young generation, in MB. Each young-generation collection holds its event loop,
 * and a request that arrives meanwhile is stamped late: with V8's default size the thread's
 * collections during a default soak took 6.8–8.6 ms (the longest of each run), with 1 MB
 * 1.9–2.4 ms, more often (four runs each, alternating, 2026-12-02).
 */
const OBSERVER_YOUNG_GEN_MB = 1;

/** upstream-worker with this tree's extension. */
function workerModule(): URL {
  return new URL(fromSource ? './upstream-worker.ts' : './upstream-worker.js', import.meta.url);
}

/**
 * From the build, the worker is a plain module. From the TypeScript source (development,
 * tests), Node 20 does not carry the parent's `--import tsx` hooks into a worker thread, so a
 * small bootstrap registers tsx first.
 */
function spawn(data: UpstreamWorkerData): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: OBSERVER_YOUNG_GEN_MB };
  if (!fromSource) return new Worker(workerModule(), { workerData: data, resourceLimits });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(workerModule().href)}); });`;
  return new Worker(code, { eval: true, workerData: data, resourceLimits });
}
