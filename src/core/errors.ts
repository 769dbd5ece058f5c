/**
 * Every error callpool raises is a `CallpoolError` with a stable `code`. Tests and users branch
 * on the code, never on the wording. Errors cross a worker boundary as plain objects
 * (`serializeError`) and are rebuilt into their class on the main thread (`deserializeError`).
 */

export const ErrorCodes = {
  QUEUE_FULL: 'E_QUEUE_FULL',
  DEADLINE: 'E_DEADLINE',
  CANCELLED: 'E_CANCELLED',
  POLICY: 'E_POLICY',
  VALIDATION: 'E_VALIDATION',
  CIRCUIT_OPEN: 'E_CIRCUIT_OPEN',
  RATE_LIMITED: 'E_RATE_LIMITED',
  WORKER: 'E_WORKER',
  TRANSPORT: 'E_TRANSPORT',
  CONFIG: 'E_CONFIG',
  CLOSED: 'E_CLOSED',
  LIMITER_UNAVAILABLE: 'E_LIMITER_UNAVAILABLE',
  HOOK: 'E_HOOK',
  HANDLER_LOAD: 'E_HANDLER_LOAD',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorOptions {
  cause?: unknown;
  /** Extra facts a user needs to act on the error. Must never hold a secret. */
  context?: Record<string, unknown>;
}

export abstract class CallpoolError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether trying the same call again may succeed (used by retry and the circuit breaker). */
  retryable = false;
  context: Record<string, unknown> | undefined;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.context = options.context;
  }

  override get name(): string {
    return this.constructor.name;
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

export class QueueFullError extends CallpoolError {
  readonly code = ErrorCodes.QUEUE_FULL;
  constructor(readonly capacity: number, options?: ErrorOptions) {
    super(`queue is full (capacity ${capacity}); the call was not accepted`, options);
  }
}

export class DeadlineExceededError extends CallpoolError {
  readonly code = ErrorCodes.DEADLINE;
  constructor(readonly phase: 'queued' | 'running' | 'submit' | 'retry' = 'running', options?: ErrorOptions) {
    super(`deadline exceeded while ${phase === 'submit' ? 'submitting' : phase === 'retry' ? 'waiting to retry' : phase}`, options);
  }
}

export class CancelledError extends CallpoolError {
  readonly code = ErrorCodes.CANCELLED;
  constructor(readonly reason: string = 'cancelled', options?: ErrorOptions) {
    super(`call cancelled: ${reason}`, options);
  }
}

export class PolicyError extends CallpoolError {
  readonly code = ErrorCodes.POLICY;
  constructor(
    readonly required: readonly string[],
    readonly granted: readonly string[],
    readonly missing: readonly string[],
    options?: ErrorOptions,
  ) {
    super(
      missing.length > 0
        ? `policy denied: missing capabilities [${missing.join(', ')}] (required [${required.join(', ')}], granted [${granted.join(', ')}])`
        : `policy denied while checking capabilities (required [${required.join(', ')}], granted [${granted.join(', ')}])`,
      options,
    );
  }
}

export interface Issue {
  /** JSON pointer-like path of the offending field, e.g. `/limits/requests/limit`. */
  path: string;
  /** The rule that failed, e.g. `minimum`, `required`, `type`. */
  rule: string;
  message: string;
}

function describeIssues(what: string, issues: readonly Issue[]): string {
  const lines = issues.map((i) => `${i.path || '/'}: ${i.message} (${i.rule})`);
  return `${what}: ${lines.join('; ')}`;
}

export class ValidationError extends CallpoolError {
  readonly code = ErrorCodes.VALIDATION;
  constructor(readonly what: string, readonly issues: readonly Issue[], options?: ErrorOptions) {
    super(describeIssues(`invalid ${what}`, issues), options);
  }
}

export class ConfigError extends CallpoolError {
  readonly code = ErrorCodes.CONFIG;
  constructor(readonly what: string, readonly issues: readonly Issue[], options?: ErrorOptions) {
    super(describeIssues(`invalid ${what}`, issues), options);
  }
}

export class CircuitOpenError extends CallpoolError {
  readonly code = ErrorCodes.CIRCUIT_OPEN;
  constructor(readonly service: string, readonly retryAfterMs: number, options?: ErrorOptions) {
    super(`circuit for '${service}' is open; next probe in ${Math.max(0, Math.round(retryAfterMs))} ms`, options);
  }
}

export class RateLimitError extends CallpoolError {
  readonly code = ErrorCodes.RATE_LIMITED;
  constructor(message: string, readonly retryAfterMs?: number, options?: ErrorOptions & { retryable?: boolean }) {
    super(message, options);
    this.retryable = options?.retryable ?? true;
  }
}

export class WorkerCrashError extends CallpoolError {
  readonly code = ErrorCodes.WORKER;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export class TransportError extends CallpoolError {
  readonly code = ErrorCodes.TRANSPORT;
  /** How long the provider asked to wait (`retry-after` on a 503 or Anthropic's 529 overloaded); retry waits at least this. */
  declare readonly retryAfterMs?: number;
  constructor(message: string, readonly status?: number, options?: ErrorOptions & { retryable?: boolean; retryAfterMs?: number | undefined }) {
    super(message, options);
    this.retryable = options?.retryable ?? false;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

export class ClosedError extends CallpoolError {
  readonly code = ErrorCodes.CLOSED;
  constructor(message = 'executor is closed', options?: ErrorOptions) {
    super(message, options);
  }
}

export class LimiterUnavailableError extends CallpoolError {
  readonly code = ErrorCodes.LIMITER_UNAVAILABLE;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export class HookError extends CallpoolError {
  readonly code = ErrorCodes.HOOK;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A handler module that cannot be loaded (missing, throws on import, exports no handler); the original is `cause`. */
export class HandlerLoadError extends CallpoolError {
  readonly code = ErrorCodes.HANDLER_LOAD;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const classes = {
  E_QUEUE_FULL: QueueFullError,
  E_DEADLINE: DeadlineExceededError,
  E_CANCELLED: CancelledError,
  E_POLICY: PolicyError,
  E_VALIDATION: ValidationError,
  E_CIRCUIT_OPEN: CircuitOpenError,
  E_RATE_LIMITED: RateLimitError,
  E_WORKER: WorkerCrashError,
  E_TRANSPORT: TransportError,
  E_CONFIG: ConfigError,
  E_CLOSED: ClosedError,
  E_LIMITER_UNAVAILABLE: LimiterUnavailableError,
  E_HOOK: HookError,
  E_HANDLER_LOAD: HandlerLoadError,
} satisfies Record<ErrorCode, abstract new (...args: never[]) => CallpoolError>;

/** The shape an error takes when it crosses a thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  retryable?: boolean;
  fields?: Record<string, unknown>;
  cause?: SerializedError;
}

const ownSkip = new Set(['message', 'stack', 'cause', 'code', 'retryable']);

/** Turns any thrown value into a structured-clone-safe object. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) {
    return { name: 'Error', message: typeof err === 'string' ? err : safeString(err) };
  }
  const out: SerializedError = { name: err.name, message: err.message };
  if (err.stack !== undefined) out.stack = err.stack;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  const retryable = (err as { retryable?: unknown }).retryable;
  if (typeof retryable === 'boolean') out.retryable = retryable;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    if (ownSkip.has(key)) continue;
    const value = (err as unknown as Record<string, unknown>)[key];
    if (typeof value !== 'function') fields[key] = cloneable(value);
  }
  if (Object.keys(fields).length > 0) out.fields = fields;
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** How deep a chain of causes crosses a thread (a cycle of causes must end). */
const MAX_CAUSES = 4;

/** Rebuilds an error from `serializeError`, as its own class when the code is ours. */
export function deserializeError(data: SerializedError): Error {
  const Cls = data.code !== undefined ? (classes as Record<string, (typeof classes)[ErrorCode]>)[data.code] : undefined;
  // A real Error (native brand, as `util.types.isNativeError` checks) with the class's prototype.
  const err: Error = Cls !== undefined ? Reflect.construct(Error, [data.message], Cls) : new Error(data.message);
  Object.defineProperty(err, 'message', { value: data.message, writable: true, configurable: true });
  if (data.stack !== undefined) Object.defineProperty(err, 'stack', { value: data.stack, writable: true, configurable: true });
  if (Cls === undefined && data.name !== 'Error') {
    Object.defineProperty(err, 'name', { value: data.name, writable: true, configurable: true });
  }
  if (data.code !== undefined) Object.defineProperty(err, 'code', { value: data.code, writable: true, enumerable: true, configurable: true });
  if (data.retryable !== undefined) (err as Error & { retryable?: boolean }).retryable = data.retryable;
  if (data.fields !== undefined) Object.assign(err, data.fields);
  if (data.cause !== undefined) Object.defineProperty(err, 'cause', { value: deserializeError(data.cause), writable: true, configurable: true });
  return err;
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return 'unknown error';
  }
}

function cloneable(v: unknown): unknown {
  try {
    structuredClone(v);
    return v;
  } catch {
    return safeString(v);
  }
}

export function isCallpoolError(e: unknown): e is CallpoolError {
  return e instanceof CallpoolError;
}

/** True when `e` carries `code` (works for rebuilt errors and plain objects alike). */
export function hasCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

export const isQueueFullError = (e: unknown): e is QueueFullError => e instanceof QueueFullError;
export const isDeadlineExceededError = (e: unknown): e is DeadlineExceededError => e instanceof DeadlineExceededError;
export const isCancelledError = (e: unknown): e is CancelledError => e instanceof CancelledError;
export const isRateLimitError = (e: unknown): e is RateLimitError => e instanceof RateLimitError;

/** Whether an error is worth retrying: our own flag, or a rebuilt/plain error that says so. */
export function isRetryable(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === true;
}
