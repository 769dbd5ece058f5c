import { ConfigError, type Issue } from './errors.js';
import { ExecutorConfigSchema, type LimitsConfig, type PoolConfig } from './schemas.js';
import { compile } from './validate.js';

/** The shape of a middleware as far as configuration can check it. */
export interface MiddlewareLike {
  readonly name: string;
}

export interface ExecutorConfig<M extends MiddlewareLike = MiddlewareLike> {
  /** Calls waiting for admission; a full queue refuses new calls at once. @default 1000 */
  queueCapacity?: number;
  /** Calls and streams running at once. @default 20 */
  concurrency?: number;
  /** Request and token rate limits, one window or several. @default none */
  limits?: LimitsConfig;
  /** Where handlers run. @default { kind: 'piscina' } */
  pool?: PoolConfig;
  /** Middleware, outermost first. @default [] */
  middleware?: readonly M[];
  /** Settled calls kept for `stats().history`. @default 100 */
  historySize?: number;
  /** Check requests against the service's `requestSchema` before queueing. @default true */
  validateRequests?: boolean;
}

export interface ResolvedConfig<M extends MiddlewareLike = MiddlewareLike> {
  queueCapacity: number;
  concurrency: number;
  limits: LimitsConfig | undefined;
  pool: PoolConfig;
  middleware: readonly M[];
  historySize: number;
  validateRequests: boolean;
}

const checkConfig = compile(ExecutorConfigSchema);

/** Validates a configuration (every problem at once, each naming its field) and fills defaults. */
export function resolveConfig<M extends MiddlewareLike>(config: ExecutorConfig<M> = {}): ResolvedConfig<M> {
  const issues: Issue[] = checkConfig(config) ? [] : checkConfig.issues();
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
  };
}
