import type { Static } from '@sinclair/typebox';
import { ConfigError, type Issue } from './errors.js';
import { ExecutorConfigSchema, PoolConfigSchema, type LimiterObject, type LimitsConfig, type PoolConfig, type PoolObject } from './schemas.js';
import { compile, withDefaults } from './validate.js';

/** The shape of a middleware as far as configuration can check it. */
export interface MiddlewareLike {
  readonly name: string;
}

type ConfigData = Static<typeof ExecutorConfigSchema>;

/**
 * An `Executor`'s configuration. Its fields, ranges and defaults are those of
 * `ExecutorConfigSchema` (src/core/schemas.ts), the one place they are written; only the
 * middleware's element type is narrowed here.
 */
export type ExecutorConfig<M extends MiddlewareLike = MiddlewareLike> = Omit<ConfigData, 'middleware'> & {
  /** Middleware, outermost first (at most 64). @default [] */
  middleware?: readonly M[];
};

/** A configuration with every default filled in (`limits` stays optional: none means no limiter). */
export type ResolvedConfig<M extends MiddlewareLike = MiddlewareLike> = Required<Omit<ExecutorConfig<M>, 'limits' | 'guard'>> & {
  limits: LimitsConfig | LimiterObject | undefined;
  guard: 'auto' | number | undefined;
  pool: PoolConfig | PoolObject;
};

const checkConfig = compile(ExecutorConfigSchema, { lazy: true });
/** A pool configuration alone (`createPool`, `workerPool`, a model's `pool` option). */
export const validPoolConfig = compile(PoolConfigSchema, { lazy: true });

/** Validates a configuration (every problem at once, each naming its field) and fills defaults. */
export function resolveConfig<M extends MiddlewareLike>(config: ExecutorConfig<M> = {}): ResolvedConfig<M> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigError('executor config', [{ path: '/', rule: 'type', message: `must be an object, got ${config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config}` }]);
  }
  const issues: Issue[] = checkConfig(config) ? [] : checkConfig.issues();
  const mw: unknown = config.middleware;
  if (Array.isArray(mw)) {
    mw.forEach((m: unknown, i) => {
      const ok = typeof m === 'object' && m !== null && typeof (m as MiddlewareLike).name === 'string';
      const sides = ok && ['call', 'stream'].some((k) => typeof (m as Record<string, unknown>)[k] === 'function');
      if (!ok || !sides) issues.push({ path: `/middleware/${i}`, rule: 'type', message: 'must be a middleware (an object with a `name` and a `call` or `stream` function)' });
    });
  }
  if (issues.length > 0) throw new ConfigError('executor config', issues);
  return withDefaults(ExecutorConfigSchema, config) as ResolvedConfig<M>;
}
