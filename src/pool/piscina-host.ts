import { Piscina } from 'piscina';
import { noop } from '../core/noop.js';
import { workerEntry, workerExecArgv, type HostOptions, type WorkerHost } from './worker-host.js';

/** Worker threads kept by piscina (spawn, replace after a crash, terminate, heap limits). Loaded on first use. */
export function piscinaHost(options: HostOptions): WorkerHost {
  const piscina = new Piscina({
    filename: workerEntry('require'),
    ...workerExecArgv(options.execArgv),
    // Each worker runs exactly one long-lived session, so the pool is always "full".
    minThreads: options.threads,
    maxThreads: options.threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: Infinity,
    atomics: 'disabled',
    ...(options.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } }),
  });
  // A worker that dies with no task of the library's own is reported as an 'error' event;
  // the pool already learnt of it through its closed port, so this must not go uncaught.
  piscina.on('error', noop);
  return {
    run: (start, transferList, signal) => piscina.run(start, { transferList, signal }),
    destroy: () => piscina.destroy(),
  };
}
