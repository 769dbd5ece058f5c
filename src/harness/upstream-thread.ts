import { Worker } from 'node:worker_threads';
import { fromMachine } from '../core/clock.js';
import { deserializeError, type SerializedError } from '../core/errors.js';
import type { MockUpstreamOptions, MockUpstreamStats } from './mock-upstream.js';

export type UpstreamRequest = { t: 'collect' } | { t: 'clear' } | { t: 'close' };
export type UpstreamReply =
  | { t: 'ready'; url: string; baseURL: string }
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
  /** The upstream thread's longest event-loop delay (10 ms resolution): how late its stamps can be. */
  loopDelayMaxMs: number;
  /** The upstream thread's nice value: -10 when it could be lowered, else 0 (null: no per-thread priority here). */
  nice: number | null;
  /** Whether the upstream thread ran real-time (SCHED_FIFO) (null: not known here). */
  realtime: boolean | null;
}

/** What the upstream thread is started with. */
export interface UpstreamWorkerData {
  options: MockUpstreamOptions;
  realtime: boolean;
}

/**
 * The mock upstream on a thread of its own, so that it is an independent observer: a pause of
 * the main thread (a GC, a burst of callbacks) does not bunch up its arrival timestamps, and
 * serving HTTP does not compete with the executor for the main event loop.
 */
export class UpstreamThread {
  readonly #worker: Worker;
  #waiting: ((msg: UpstreamReply) => void) | undefined;

  private constructor(worker: Worker, readonly url: string, readonly baseURL: string) {
    this.#worker = worker;
    worker.on('message', (msg: UpstreamReply) => this.#waiting?.(msg));
  }

  /**
   * @param realtime run the thread real-time where the OS permits it (see upstream-worker.ts);
   *   default: unless the environment sets `CALLPOOL_OBSERVER_REALTIME=0`
   */
  static start(options: MockUpstreamOptions, { realtime = process.env['CALLPOOL_OBSERVER_REALTIME'] !== '0' }: { realtime?: boolean } = {}): Promise<UpstreamThread> {
    const worker = spawn({ options, realtime });
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => {
        void worker.terminate();
        reject(err);
      };
      worker.once('error', fail);
      worker.once('message', (msg: UpstreamReply) => {
        worker.off('error', fail);
        if (msg.t === 'ready') resolve(new UpstreamThread(worker, msg.url, msg.baseURL));
        else if (msg.t === 'error') fail(deserializeError(msg.error));
        else fail(new Error(`unexpected message from the upstream thread: ${msg.t}`));
      });
    });
  }

  /** The arrival log and counters, as of now. */
  async collect(): Promise<Arrivals> {
    const msg = await this.#ask({ t: 'collect' }, 'collected');
    const times = msg.times;
    for (let i = 0; i < times.length; i++) times[i] = fromMachine(times[i]!);
    return { times, total: msg.total, capacity: msg.capacity, stats: msg.stats, loopDelayMaxMs: msg.loopDelayMaxMs, nice: msg.nice, realtime: msg.realtime };
  }

  /** Forgets the arrivals and the longest event-loop delay so far (between runs on one upstream). */
  async clear(): Promise<void> {
    await this.#ask({ t: 'clear' }, 'cleared');
  }

  /** Stops the server, then the thread (terminated if it does not end on its own within a second). */
  async close(): Promise<void> {
    if (this.#worker.threadId === -1) return;
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
    await this.#ask({ t: 'close' }, 'closed').catch(() => undefined);
    const timer = setTimeout(() => void this.#worker.terminate(), 1000);
    await exited;
    clearTimeout(timer);
  }

  #ask<K extends UpstreamReply['t']>(msg: UpstreamRequest, answer: K): Promise<Extract<UpstreamReply, { t: K }>> {
    return new Promise((resolve, reject) => {
      const onError = (err: unknown) => {
        done();
        reject(err);
      };
      const onExit = () => onError(new Error('the upstream thread exited'));
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
      this.#worker.postMessage(msg);
    });
  }
}

/**
 * From the build, the worker is a plain module. From the TypeScript source (development,
 * tests), Node 20 does not carry the parent's `--import tsx` hooks into a worker thread, so a
 * small bootstrap registers tsx first.
 */
function spawn(data: UpstreamWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./upstream-worker.js', import.meta.url), { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./upstream-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData: data });
}
