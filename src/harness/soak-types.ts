import type { SerializedError } from '../core/errors.js';
import type { Fixture } from './fixture.js';
import type { Interval } from './rate-accuracy.js';
import type { SoakReport } from './report.js';

/** The types every soak module shares; this file imports no runner, so the runners never import each other. */

export interface SoakOptions {
  fixture: Fixture;
  /** Where the fixture came from (for the report). */
  file: string;
  /** An OpenAI-compatible base URL to run against instead of the embedded upstream. */
  target?: string;
  /** API key for `target` (never written to a report). @default OPENAI_API_KEY */
  apiKey?: string;
  /** Model name for `target` (overrides the fixture's). */
  model?: string;
  /** Overrides the fixture's `load.durationS`. */
  durationS?: number;
  /** Overrides the fixture's `seed`. */
  seed?: number;
  /** Called about every `tickMs` with the run's live figures. */
  onProgress?: (p: SoakProgress) => void;
  tickMs?: number;
  /** Aborting stops offering calls; in-flight ones get a short drain, then are cancelled. The report then says it was interrupted. */
  signal?: AbortSignal;
  /** Awaited once the workers are warm, just before the clock starts (lines several processes up). */
  beforeStart?: () => Promise<void>;
  /** Handed the run's raw timings when it ends (merged across processes by the caller). */
  onRaw?: (raw: SoakRaw) => void;
}

/** Timings on this thread's monotonic clock. */
export interface SoakRaw {
  t0: number;
  /** When the head of the queue waited for request capacity. */
  saturated: readonly Interval[];
  /** The executor's admissions, when a request limit is set. */
  admissions: Float64Array | undefined;
}

/** {@link SoakRaw} on the machine's monotonic clock (`toMachine`), so that a parent process can put it on its own. */
export interface SoakRawMachine {
  t0: number;
  saturated: Interval[];
  admissions: Float64Array | undefined;
}

export interface SoakProgress {
  elapsedMs: number;
  /** Calls the plan will offer in all. */
  planned: number;
  /** How long the load runs (ms); null when it is a number of calls, not a duration. */
  plannedMs: number | null;
  offered: number;
  /** Settled: completed, failed, cancelled or refused. */
  done: number;
  /** Completed per second over the last tick. */
  ratePerSec: number;
  queueWaitP99Ms: number;
  queued: number;
  running: number;
  heapMb: number;
  rssMb: number;
}

/** What a soak process is asked to run: its share of the fixture against a shared upstream. */
export interface SoakJob {
  index: number;
  fixture: Fixture;
  file: string;
  baseURL: string;
  apiKey?: string;
  model?: string;
  durationS?: number;
  seed: number;
}

export type ToChild = { t: 'job'; job: SoakJob } | { t: 'go' } | { t: 'stop' };
export type FromChild =
  | { t: 'ready' }
  | { t: 'progress'; p: SoakProgress }
  | { t: 'done'; report: SoakReport; raw: SoakRawMachine }
  | { t: 'error'; error: SerializedError };
