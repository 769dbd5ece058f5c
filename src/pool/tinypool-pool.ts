import { availableParallelism } from 'node:os';
import { Tinypool } from 'tinypool';
import type { PoolConfig } from '../core/schemas.js';
import { ChannelPool } from './channel-pool.js';
import { resolveWorkerEntry, type WorkerHost } from './worker-host.js';

/**
 * Worker threads kept by tinypool; calls and streams travel over callpool's own batched
 * channels (see `ChannelPool`), exactly as on `PiscinaPool`.
 * @example new TinypoolPool({ kind: 'tinypool', threads: 2 })
 */
export class TinypoolPool extends ChannelPool {
  constructor(config: Partial<PoolConfig> = {}) {
    const threads = config.threads ?? availableParallelism();
    super('tinypool', host(threads, config), { threads, streamCredit: config.streamCredit, abortGraceMs: config.abortGraceMs, idleSpinUs: config.idleSpinUs });
  }
}

function host(threads: number, config: Partial<PoolConfig>): WorkerHost {
  const entry = resolveWorkerEntry(config.execArgv);
  const tinypool = new Tinypool({
    filename: entry.filename,
    ...(entry.execArgv === undefined ? {} : { execArgv: entry.execArgv }),
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    isolateWorkers: false,
    ...(config.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: config.maxHeapMb } }),
  });
  // A worker that dies with no task of the library's own is reported as an 'error' event;
  // the pool already learnt of it through its closed port, so this must not go uncaught.
  tinypool.on('error', noop);
  return {
    run: (start, transferList, signal) => tinypool.run(start, { transferList, signal }),
    destroy: () => tinypool.destroy(),
  };
}

function noop(): void {}
