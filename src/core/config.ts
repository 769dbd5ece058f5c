import { ConfigError, type Issue } from './errors.js';
import { ExecutorConfigSchema, type LimitsConfig, type PoolConfig } from './schemas.js';
import { compile } from './validate.js';

/** The shape of a middleware as far as configuration can check it. */
export interface MiddlewareLike {
  readonly name: string;
}

/** The shape of a `Pool` object (src/pool/types.ts has the contract), as configuration tells it from a PoolConfig. */
export interface PoolObject {
  readonly kind: string;
  run(...args: never[]): unknown;
  stream(...args: never[]): AsyncIterable<unknown>;
  close(): Promise<void>;
}

/** The shape of a `Limiter` object (src/limits/types.ts has the contract), as configuration tells it from a LimitsConfig. */
export interface LimiterObject {
  acquire(...args: never[]): unknown;
  reconcile(...args: never[]): unknown;
  close(): Promise<void>;
}

export function isPoolObject(v: unknown): v is PoolObject {
  return hasFunctions(v, ['run', 'stream', 'close']);
}

export function isLimiterObject(v: unknown): v is LimiterObject {
  return hasFunctions(v, ['acquire', 'reconcile', 'close']);
}

function hasFunctions(v: unknown, names: readonly string[]): boolean {
  return typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function');
}

export interface ExecutorConfig<M extends MiddlewareLike = MiddlewareLike> {
  /** Calls waiting for admission; a full queue refuses new calls at once. @default 1000 */
  queueCapacity?: number;
  /** Calls and streams running at once. @default 20 */
  concurrency?: number;
  /** Request and token rate limits, one window or several, or a `Limiter` object. @default none */
  limits?: LimitsConfig | LimiterObject;
  /** Where handlers run: a pool configuration, or a `Pool` object. @default { kind: 'piscina' } */
  pool?: PoolConfig | PoolObject;
  /** Middleware, outermost first. @default [] */
  middleware?: readonly M[];
  /** Settled calls kept for `stats().history`. @default 100 */
  historySize?: number;
  /** Check requests against the service's `requestSchema` before queueing. @default true */
  validateRequests?: boolean;
  /**
   * `'auto'`: widen the limiter's windows by the measured p99 of the dispatch jitter (admission
   * to send, plus report delay; see `stats().dispatch`), so requests that leave late still
   * keep the limit where they arrive. Needs a limiter with `widen`. @default none
   */
  guard?: 'auto';
}

export interface ResolvedConfig<M extends MiddlewareLike = MiddlewareLike> {
  queueCapacity: number;
  concurrency: number;
  limits: LimitsConfig | LimiterObject | undefined;
  pool: PoolConfig | PoolObject;
  middleware: readonly M[];
  historySize: number;
  validateRequests: boolean;
  guard: 'auto' | undefined;
}

const checkConfig = compile(ExecutorConfigSchema);

/** Validates a configuration (every problem at once, each naming its field) and fills defaults. */
export function resolveConfig<M extends MiddlewareLike>(config: ExecutorConfig<M> = {}): ResolvedConfig<M> {
  // Objects (a Pool, a Limiter) are checked by shape; the schema checks configurations.
  const data = isPoolObject(config.pool) || isLimiterObject(config.limits) ? { ...config, ...(isPoolObject(config.pool) ? { pool: undefined } : {}), ...(isLimiterObject(config.limits) ? { limits: undefined } : {}) } : config;
  const issues: Issue[] = checkConfig(data) ? [] : checkConfig.issues();
  const mw = config.middleware ?? [];
  if (Array.isArray(mw)) {
    mw.forEach((m: unknown, i) => {
      const ok = typeof m === 'object' && m !== null && typeof (m as MiddlewareLike).name === 'string';
      const sides = ok && ['call', 'stream'].some((k) => typeof (m as Record<string, unknown>)[k] === 'function');
      if (!ok || !sides) issues.push({ path: `/middleware/${i}`, rule: 'type', message: 'must be a middleware (an object with a `name` and a `call` or `stream` function)' });
    });
  }
  if (issues.length > 0) throw new ConfigError('executor config', issues);
  return {
    queueCapacity: config.queueCapacity ?? 1000,
    concurrency: config.concurrency ?? 20,
    limits: config.limits,
    pool: config.pool ?? { kind: 'piscina' },
    middleware: mw,
    historySize: config.historySize ?? 100,
    validateRequests: config.validateRequests ?? true,
    guard: config.guard,
  };
}
