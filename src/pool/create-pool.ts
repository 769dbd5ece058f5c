import { validPoolConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { PoolConfig, PoolObject } from '../core/schemas.js';
import { assertConfig } from '../core/validate.js';
import { InlinePool } from './inline-pool.js';
import { isPool, type Pool } from './types.js';
import { workerPool } from './worker-pool.js';

/**
 * The pool a configuration asks for (piscina by default), or the `Pool` given.
 * @throws ConfigError (`E_CONFIG`) naming each bad field of `config`
 */
export function createPool(config: PoolConfig | PoolObject | Pool | undefined): Pool {
  if (isPool(config)) return config;
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) {
    throw new ConfigError('pool', [{ path: '/', rule: 'type', message: "must be a pool configuration ({ kind, threads?, ... }) or a Pool" }]);
  }
  const c = { ...(config as Partial<PoolConfig> | undefined), kind: (config as Partial<PoolConfig> | undefined)?.kind ?? 'piscina' };
  if (c.kind !== 'inline') return workerPool(c as Partial<PoolConfig> & { kind: 'piscina' | 'tinypool' });
  assertConfig(validPoolConfig, c, 'pool');
  return new InlinePool();
}
