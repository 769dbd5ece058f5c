import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { PoolConfig } from '../core/schemas.js';
import { ChannelPool } from './channel-pool.js';
import { resolveWorkerEntry, type WorkerHost } from './worker-host.js';

/**
 * Worker threads kept by piscina (spawn, replace after a crash, terminate, heap limits);
 * calls and streams travel over callpool's own batched channels (see `ChannelPool`).
 * @example new PiscinaPool({ kind: 'piscina', threads: 2 })
 */
export class PiscinaPool extends ChannelPool {
  constructor(config: Partial<PoolConfig> = {}) {
    const threads = config.threads ?? availableParallelism();
    super('piscina', host(threads, config), { threads, streamCredit: config.streamCredit, abortGraceMs: config.abortGraceMs, idleSpinUs: config.idleSpinUs });
  }
}

function host(threads: number, config: Partial<PoolConfig>): WorkerHost {
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
  return {
    run: (start, transferList, signal) => piscina.run(start, { transferList, signal }),
    destroy: () => piscina.destroy(),
  };
}

function noop(): void {}
