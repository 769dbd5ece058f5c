import { availableParallelism } from 'node:os';
import { Tinypool } from 'tinypool';
import type { PoolConfig } from '../core/schemas.js';
import { ChannelPool } from './channel-pool.js';
import type { Pool, PoolTask } from './types.js';
import { resolveWorkerEntry, type WorkerHost } from './worker-host.js';

/**
 * Worker threads kept by tinypool; calls and streams travel over callpool's own batched
 * channels (see `ChannelPool`), exactly as on `PiscinaPool`.
 * @example new TinypoolPool({ kind: 'tinypool', threads: 2 })
 */
export class TinypoolPool implements Pool {
  readonly kind = 'tinypool' as const;
  readonly #engine: ChannelPool;

  constructor(config: Partial<PoolConfig> = {}) {
    const entry = resolveWorkerEntry(config.execArgv);
    const threads = config.threads ?? availableParallelism();
    const tinypool = new Tinypool({
      filename: entry.filename,
      ...(entry.execArgv === undefined ? {} : { execArgv: entry.execArgv }),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      isolateWorkers: false,
      ...(config.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: config.maxHeapMb } }),
    });
    const host: WorkerHost = {
      run: (start, transferList, signal) => tinypool.run(start, { transferList, signal }),
      destroy: () => tinypool.destroy(),
    };
    // A worker that dies with no task of the library's own is reported as an 'error' event;
    // the pool already learnt of it through its closed port, so this must not go uncaught.
    tinypool.on('error', noop);
    this.#engine = new ChannelPool('tinypool', host, { threads, streamCredit: config.streamCredit, abortGraceMs: config.abortGraceMs });
  }

  get threads(): number {
    return this.#engine.threads;
  }

  call(task: PoolTask, signal: AbortSignal): Promise<unknown> {
    return this.#engine.call(task, signal);
  }

  stream(task: PoolTask, signal: AbortSignal): AsyncIterable<unknown> {
    return this.#engine.stream(task, signal);
  }

  close(): Promise<void> {
    return this.#engine.close();
  }
}

function noop(): void {}
