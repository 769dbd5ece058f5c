import type { PoolConfig, PoolObject } from '../core/schemas.js';
import { InlinePool } from './inline-pool.js';
import { isPool, type Pool } from './types.js';
import { workerPool } from './worker-pool.js';

/** The pool a configuration asks for (piscina by default), or the `Pool` given. */
export function createPool(config: PoolConfig | PoolObject | Pool | undefined): Pool {
  if (isPool(config)) return config;
  const kind = (config as PoolConfig | undefined)?.kind ?? 'piscina';
  return kind === 'inline' ? new InlinePool() : workerPool({ ...(config as PoolConfig | undefined), kind });
}
