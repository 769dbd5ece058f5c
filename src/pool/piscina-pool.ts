import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { PoolConfig } from '../core/schemas.js';
import { ChannelPool } from './channel-pool.js';
import type { Pool, PoolTask } from './types.js';
import { resolveWorkerEntry, type WorkerHost } from './worker-host.js';

/**
 * Worker threads kept by piscina (spawn, replace after a crash, terminate, heap limits);
 * calls and streams travel over callpool's own batched channels (see `ChannelPool`).
 * @example new PiscinaPool({ kind: 'piscina', threads: 2 })
 */
export class PiscinaPool implements Pool {
  readonly kind = 'piscina' as const;
  readonly #engine: ChannelPool;

  constructor(config: Partial<PoolConfig> = {}) {
    const threads = config.threads ?? availableParallelism();
    const entry = resolveWorkerEntry(config.execArgv);
    const piscina = new Piscina({
      filename: entry.filename,
      ...(entry.execArgv === undefined ? {} : { execArgv: entry.execArgv }),
      // Each worker runs exactly one long-lived session, so the pool is always "full".
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      atomics: 'disabled',
      ...(config.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: config.maxHeapMb } }),
    });
    // A worker that dies with no task of the library's own is reported as an 'error' event;
    // the pool already learnt of it through its closed port, so this must not go uncaught.
    piscina.on('error', noop);
    const host: WorkerHost = {
      run: (start, transferList, signal) => piscina.run(start, { transferList, signal }),
      destroy: () => piscina.destroy(),
    };
    this.#engine = new ChannelPool('piscina', host, { threads, streamCredit: config.streamCredit, abortGraceMs: config.abortGraceMs });
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
