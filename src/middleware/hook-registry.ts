import { now } from '../core/clock.js';
import { HookError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { resolveHookOptions, resolveHookRegistryOptions, type HookOptions, type HookRegistryOptions } from './options.js';

/** The moments a hook can observe. Names are data: `register` refuses any other. */
export const HookType = {
  PRE_CALL: 'PRE_CALL',
  POST_CALL: 'POST_CALL',
  CALL_ERROR: 'CALL_ERROR',
  PRE_STREAM: 'PRE_STREAM',
  /** May transform the chunk: a hook returning a value other than `undefined` replaces it. */
  STREAM_CHUNK: 'STREAM_CHUNK',
  POST_STREAM: 'POST_STREAM',
  STREAM_ERROR: 'STREAM_ERROR',
  /** Emitted by the executor when the head of the queue must wait for rate capacity. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Emitted by the executor when a submit is refused because the queue is full. */
  QUEUE_FULL: 'QUEUE_FULL',
} as const;
export type HookType = (typeof HookType)[keyof typeof HookType];

const TYPES = new Set<string>(Object.values(HookType));

/**
 * What a hook receives. Every field is a redacted copy (see `redact`), except `chunk`, which is
 * the stream's data itself so that a STREAM_CHUNK hook can transform it.
 */
export interface HookEvent {
  type: HookType;
  service: string;
  callId: string;
  kind?: 'call' | 'stream';
  attempt?: number;
  /** The call's context as plain data (`CallContext.toJSON()`), redacted. */
  ctx?: unknown;
  request?: unknown;
  result?: unknown;
  /** A plain `{ name, code, message, context, ... }` copy of the error, redacted. */
  error?: unknown;
  chunk?: unknown;
  /** 0-based index of the chunk in its stream (STREAM_CHUNK), or the chunk count (POST_STREAM). */
  index?: number;
  chunks?: number;
  /** Time from PRE_* to this event (ms). */
  durationMs?: number;
  /** RATE_LIMITED: how long the limiter asked to wait, and why. */
  waitMs?: number;
  reason?: string;
  /** QUEUE_FULL: the queue's capacity. */
  capacity?: number;
}

export type HookFn = (event: HookEvent) => unknown;

export type { HookOptions, HookRegistryOptions } from './options.js';

/** How one hook ended in one `emit`. */
export interface HookOutcome {
  status: 'ok' | 'error' | 'timeout';
  /** Time the hook took, or the timeout when it was abandoned (ms). */
  ms: number;
  value?: unknown;
  error?: HookError;
}

interface Entry {
  fn: HookFn;
  timeout: number;
}

/**
 * Hooks by type. `emit` runs a type's hooks concurrently, each under its own timeout, and
 * resolves once every hook has finished or been abandoned: a slow, throwing or hanging hook costs
 * at most its timeout and never fails anything. (A hook that blocks the thread synchronously
 * cannot be abandoned: keep hooks asynchronous.)
 *
 * @example
 * const registry = new HookRegistry();
 * registry.register(HookType.POST_CALL, (e) => log.info(e.service, e.durationMs), { timeout: 200 });
 * new Executor({ middleware: [hooks(registry)] });
 */
export class HookRegistry {
  readonly #hooks = new Map<HookType, Entry[]>();
  readonly #defaultTimeout: number;
  readonly #onError: ((error: HookError, type: HookType) => void) | undefined;

  /** @throws ConfigError (`E_CONFIG`) for options out of range */
  constructor(options: HookRegistryOptions = {}) {
    const o = resolveHookRegistryOptions(options);
    this.#defaultTimeout = o.defaultTimeoutMs;
    this.#onError = o.onError;
  }

  /**
   * Adds a hook; returns a function that removes it.
   * @throws HookError (`E_HOOK`) for an unknown type or a non-function; ConfigError for a bad timeout
   */
  register(type: HookType, fn: HookFn, options: HookOptions = {}): () => void {
    assertType(type);
    if (typeof fn !== 'function') throw new HookError(`a hook must be a function, got ${fn === null ? 'null' : typeof fn}`, { context: { type } });
    const timeout = resolveHookOptions(options).timeout ?? this.#defaultTimeout;
    const entry: Entry = { fn, timeout };
    const list = this.#hooks.get(type);
    if (list === undefined) this.#hooks.set(type, [entry]);
    else list.push(entry);
    return () => {
      const l = this.#hooks.get(type);
      const i = l?.indexOf(entry) ?? -1;
      if (i >= 0) l!.splice(i, 1);
      if (l?.length === 0) this.#hooks.delete(type);
    };
  }

  /** Whether any hook is registered for `type` (the hot path asks before building an event). */
  has(type: HookType): boolean {
    return this.#hooks.has(type);
  }

  count(type: HookType): number {
    return this.#hooks.get(type)?.length ?? 0;
  }

  /** Removes every hook. */
  clear(): void {
    this.#hooks.clear();
  }

  /**
   * Runs every hook of `type` concurrently with `event`; resolves with each one's outcome, in
   * registration order, when the last has finished or timed out. Never rejects for a hook's fault.
   */
  emit(type: HookType, event: HookEvent): Promise<HookOutcome[]> {
    try {
      assertType(type);
    } catch (err) {
      return Promise.reject(err);
    }
    const list = this.#hooks.get(type);
    if (list === undefined) return Promise.resolve([]);
    return Promise.all(list.slice().map((h) => this.#run(h, type, event)));
  }

  /**
   * Passes a chunk through the STREAM_CHUNK hooks in registration order (each may replace it),
   * each under its timeout; a hook that fails or times out leaves the chunk as it was.
   */
  async transform(chunk: unknown, event: Omit<HookEvent, 'chunk'>): Promise<unknown> {
    const list = this.#hooks.get(HookType.STREAM_CHUNK);
    if (list === undefined) return chunk;
    let value = chunk;
    for (const h of list.slice()) {
      const out = await this.#run(h, HookType.STREAM_CHUNK, { ...event, chunk: value });
      if (out.status === 'ok' && out.value !== undefined) value = out.value;
    }
    return value;
  }

  #run(h: Entry, type: HookType, event: HookEvent): Promise<HookOutcome> {
    const start = now();
    let result: unknown;
    try {
      result = h.fn(event);
    } catch (err) {
      return Promise.resolve(this.#failed(type, err, now() - start));
    }
    if (!(result instanceof Promise) && !isThenable(result)) return Promise.resolve({ status: 'ok', ms: now() - start, value: result });
    return new Promise<HookOutcome>((resolve) => {
      const timer = setTimeout(() => {
        const error = new HookError(`a ${type} hook did not finish within ${h.timeout} ms; it was abandoned`, { context: { type, timeoutMs: h.timeout } });
        this.#report(error, type);
        resolve({ status: 'timeout', ms: h.timeout, error });
      }, h.timeout);
      Promise.resolve(result).then(
        (value) => {
          clearTimeout(timer);
          resolve({ status: 'ok', ms: now() - start, value });
        },
        (err: unknown) => {
          clearTimeout(timer);
          resolve(this.#failed(type, err, now() - start));
        },
      );
    });
  }

  #failed(type: HookType, err: unknown, ms: number): HookOutcome {
    const text = err instanceof Error ? err.message : typeof err === 'string' ? err : 'non-error value thrown';
    const error = new HookError(`a ${type} hook failed: ${redact.string(text)}`, { context: { type } });
    this.#report(error, type);
    return { status: 'error', ms, error };
  }

  #report(error: HookError, type: HookType): void {
    if (this.#onError === undefined) return;
    try {
      this.#onError(error, type);
    } catch {
      // An error reporter that throws must not turn a hook failure into a call failure.
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function assertType(type: unknown): asserts type is HookType {
  if (typeof type !== 'string' || !TYPES.has(type)) {
    throw new HookError(`unknown hook type ${JSON.stringify(String(type))}; expected one of ${[...TYPES].join(', ')}`, { context: { type: String(type) } });
  }
}
