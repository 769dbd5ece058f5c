import type { Worker } from 'node:worker_threads';
import { Tinypool, type TinypoolWorker } from 'tinypool';
import { noop } from '../core/noop.js';
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
    destroy: () => destroy(tinypool),
  };
}

type Wrapper = TinypoolWorker & { thread?: Worker; removeListener?: unknown };

/**
 * tinypool's destroy() waits for each worker's 'exit' with `events.once` on its worker wrapper,
 * which has no `removeListener`: a worker that reports an error while it exits (one that threw
 * uncaught) then throws a TypeError no one can catch, and the process dies. The wrappers get the
 * method; a worker's error ends that wait early, so the threads' own exits are awaited after it.
 */
async function destroy(tinypool: Tinypool): Promise<void> {
  const threads: Worker[] = [];
  for (const w of tinypool.threads as Wrapper[]) {
    const thread = w.thread;
    if (thread === undefined) continue;
    threads.push(thread);
    if (typeof w.removeListener !== 'function') w.removeListener = thread.removeListener.bind(thread);
  }
  const exited = threads.map((t) => (t.threadId === -1 ? undefined : new Promise((resolve) => t.once('exit', resolve))));
  await tinypool.destroy().catch(noop);
  await Promise.all(exited);
}
