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
 * Ends every thread and resolves once each has exited. tinypool's destroy() terminates them all
 * at once, then waits for each worker's 'exit' with `events.once`, which misses two cases:
 * - a worker that exited on its own without an error (`process.exit()` in a handler) is still
 *   listed, and its 'exit' came before: that wait never ends, and with no handle left to keep
 *   the process alive, close() never settled;
 * - the worker wrapper has no `removeListener`: a worker that reports an error while it exits
 *   (one that threw uncaught) makes `once` throw a TypeError no one can catch. The wrappers get
 *   the method.
 * So the threads' own exits are awaited, not tinypool's promise.
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
  tinypool.destroy().catch(noop);
  await Promise.all(exited);
}
