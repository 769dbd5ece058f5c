import { ValidationError, type Issue } from './errors.js';

/**
 * Checks of the per-call and close options of an `Executor`, run before anything is counted,
 * queued or closed: a bad option is refused with `E_VALIDATION` naming the field and loses
 * nothing already accepted.
 */

export interface SubmitOptions {
  /** Aborting it cancels the call: a queued call leaves the queue, a running one is aborted. */
  signal?: AbortSignal;
}

export interface CloseOptions {
  /** true: finish queued and running work first; false: cancel queued, abort running. @default true */
  drain?: boolean;
  /** With `drain`, cancel whatever is still unfinished after this many ms. @default Infinity */
  timeoutMs?: number;
}

const SUBMIT_KEYS = new Set(['signal']);

/** An AbortSignal, or one from another realm or polyfill with the same surface. */
export function isAbortSignal(v: unknown): v is AbortSignal {
  if (v instanceof AbortSignal) return true;
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s['aborted'] === 'boolean' && typeof s['addEventListener'] === 'function' && typeof s['removeEventListener'] === 'function';
}

/**
 * `submit`/`call`/`stream` options: `undefined` or `{ signal?: AbortSignal }`.
 * @throws ValidationError (`E_VALIDATION`) naming the field
 */
export function checkSubmitOptions(options: unknown): void {
  if (options === undefined) return;
  const issues: Issue[] = [];
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    issues.push({ path: '/', rule: 'type', message: `must be an object ({ signal? }), got ${describe(options)}` });
  } else {
    for (const key of Object.keys(options)) {
      if (!SUBMIT_KEYS.has(key)) issues.push({ path: `/${key}`, rule: 'additionalProperties', message: 'is not an allowed property' });
    }
    const signal = (options as { signal?: unknown }).signal;
    if (signal !== undefined && !isAbortSignal(signal)) {
      issues.push({ path: '/signal', rule: 'instanceOf', message: `must be an AbortSignal, got ${describe(signal)}` });
    }
  }
  if (issues.length > 0) throw new ValidationError('call options', issues);
}

/**
 * `close` options: `{ drain?: boolean, timeoutMs?: number >= 0 }` (`Infinity`: no limit, the
 * default). Returns the error rather than throwing: `close` rejects with it.
 */
export function closeOptionsError(options: unknown): ValidationError | undefined {
  const issues: Issue[] = [];
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    issues.push({ path: '/', rule: 'type', message: `must be an object ({ drain?, timeoutMs? }), got ${describe(options)}` });
  } else {
    const { drain, timeoutMs } = options as { drain?: unknown; timeoutMs?: unknown };
    for (const key of Object.keys(options)) {
      if (key !== 'drain' && key !== 'timeoutMs') issues.push({ path: `/${key}`, rule: 'additionalProperties', message: 'is not an allowed property' });
    }
    if (drain !== undefined && typeof drain !== 'boolean') issues.push({ path: '/drain', rule: 'type', message: `must be a boolean, got ${describe(drain)}` });
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
      issues.push({ path: '/timeoutMs', rule: 'minimum', message: `must be a number >= 0 (Infinity: no limit), got ${describe(timeoutMs)}` });
    }
  }
  return issues.length > 0 ? new ValidationError('close options', issues) : undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  return Array.isArray(v) ? 'an array' : typeof v;
}
