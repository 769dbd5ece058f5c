import type { TransferListItem } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { SessionStart } from './protocol.js';

/**
 * What a worker-pool library does for `ChannelPool`: the workers' life cycle only. `run`
 * starts one long-lived session (workers/entry) on a worker of its own and settles when the
 * session ends or its worker dies; aborting `kill` terminates that worker (the library then
 * replaces it). Calls never go through the library's task queue.
 */
export interface WorkerHost {
  run(start: SessionStart, transfer: TransferListItem[], kill: AbortSignal): Promise<unknown>;
  destroy(): Promise<void>;
}

export interface WorkerEntry {
  /** Path of the worker entry module. */
  filename: string;
  /** `execArgv` for the workers, when configured; otherwise they inherit the parent's. */
  execArgv: string[] | undefined;
}

/**
 * Where the worker entry is: from source (tests, development) `workers/ts-entry.mjs`, which
 * registers tsx in the worker and serves `workers/entry.ts`; when built, `workers/entry.js`
 * beside `dist/src/`.
 */
export function resolveWorkerEntry(execArgv?: readonly string[]): WorkerEntry {
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(new URL(fromSource ? '../../workers/ts-entry.mjs' : '../../workers/entry.js', import.meta.url));
  // Given explicitly, execArgv replaces the inherited flags (Node rejects process-wide ones).
  return { filename, execArgv: execArgv === undefined ? undefined : [...execArgv] };
}
