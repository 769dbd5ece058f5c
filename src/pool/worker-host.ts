import type { TransferListItem } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { packageFile } from '../core/source-mode.js';
import type { SessionStart } from './protocol.js';

/**
 * What a worker-pool library does for `ChannelPool`: the workers' life cycle only. `run`
 * starts one long-lived session (src/pool/worker/session) on a worker of its own and settles
 * when the session ends or its worker dies; aborting `kill` terminates that worker (the
 * library then replaces it). Calls never go through the library's task queue.
 */
export interface WorkerHost {
  run(start: SessionStart, transfer: TransferListItem[], kill: AbortSignal): Promise<unknown>;
  destroy(): Promise<void>;
}

/** What a host adapter needs to start its workers. */
export interface HostOptions {
  threads: number;
  /** `execArgv` for the workers; when absent they inherit the parent's. */
  execArgv?: readonly string[] | undefined;
  maxHeapMb?: number | undefined;
}

/**
 * The worker entry: from source (tests, development) `workers/ts-entry.mjs`, which registers
 * tsx in the worker and serves `workers/entry.ts`; when built, `workers/entry.js` beside
 * `dist/src/`. A host that loads its worker file with `require()` (piscina) gets the built
 * entry through `workers/piscina-entry.cjs`, which import()s it: never through require(esm).
 * (From source, ts-entry.mjs awaits at its top level, so require() refuses it at once and
 * piscina falls back to import().)
 */
export function workerEntry(loader: 'import' | 'require' = 'import'): string {
  return fileURLToPath(packageFile('workers/', { source: 'ts-entry.mjs', build: loader === 'require' ? 'piscina-entry.cjs' : 'entry.js' }));
}

/** Given explicitly, execArgv replaces the inherited flags (Node rejects process-wide ones). */
export function workerExecArgv(execArgv: readonly string[] | undefined): { execArgv?: string[] } {
  return execArgv === undefined ? {} : { execArgv: [...execArgv] };
}
