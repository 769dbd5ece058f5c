import { defineService, type Service } from '../../src/core/service.js';
import type { HandlerContext } from '../../src/core/service.js';
import { AbortHandle } from '../../src/core/abort-handle.js';
import type { Pool, PoolTask } from '../../src/pool/types.js';
import { EXT } from './paths.js';

/** A service over one of test/fixtures/handlers/*.ts. */
export function fixtureService(name: string): Service {
  return defineService({ name, module: new URL(`../fixtures/handlers/${name}${EXT}`, import.meta.url) });
}

export const handlerCtx: HandlerContext = { callId: 'c-1', branchId: 'b-1', deadlineEpochMs: null, capabilities: [], attrs: {}, options: undefined };

export function task(name: string, request: unknown): PoolTask {
  return { service: fixtureService(name), request, ctx: handlerCtx };
}

/** Shared counters a handler in another thread can write and a test can wait on. */
export function counters(n = 2): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * n));
}

type WaitAsync = (arr: Int32Array, index: number, value: number, timeout: number) => { async: boolean; value: Promise<string> | string };

/** Resolves once `arr[index]` is no longer `from` (no polling: Atomics.waitAsync); throws if it never changes. */
export async function changed(arr: Int32Array, index: number, from = 0, timeoutMs = 90_000): Promise<number> {
  const r = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(arr, index, from, timeoutMs);
  if ((r.async ? await r.value : r.value) === 'timed-out') throw new Error(`shared counter ${index} stayed ${from} for ${timeoutMs} ms`);
  return Atomics.load(arr, index);
}

/** Sets `arr[index]` and wakes whoever waits on it (in any thread). */
export function signalAt(arr: Int32Array, index: number, value = 1): void {
  Atomics.store(arr, index, value);
  Atomics.notify(arr, index);
}

/**
 * `pool.run` as a promise, aborted by `signal` if one is given (a pool may answer synchronously or
 * throw). Without one, a handle of its own: a signal shared by many calls would keep a listener
 * per call until it aborts.
 */
export async function runOn(pool: Pool, task: PoolTask, signal?: AbortSignal): Promise<unknown> {
  return pool.run(task, signal === undefined ? new AbortHandle() : AbortHandle.from(signal));
}

/**
 * An `ignores-abort` call on `pool`, aborted with `reason` once its handler runs. Its promise
 * comes in an object, for the caller to await its rejection.
 */
export async function abortedWhileRunning(pool: Pool, mode: 'pending' | 'busy', reason: unknown): Promise<{ call: Promise<unknown> }> {
  const started = counters(1);
  const ac = new AbortController();
  const call = runOn(pool, task('ignores-abort', { mode, started }), ac.signal);
  await changed(started, 0);
  ac.abort(reason);
  return { call };
}
