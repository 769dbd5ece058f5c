import { Tinypool } from 'tinypool';
import { workerEntry, workerExecArgv, type HostOptions, type WorkerHost } from './worker-host.js';

/** Worker threads kept by tinypool. Loaded on first use. */
export function tinypoolHost(options: HostOptions): WorkerHost {
  const tinypool = new Tinypool({
    filename: workerEntry(),
    ...workerExecArgv(options.execArgv),
    minThreads: options.threads,
    maxThreads: options.threads,
    concurrentTasksPerWorker: 1,
    isolateWorkers: false,
    ...(options.maxHeapMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } }),
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
