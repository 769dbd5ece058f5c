import { isPoolObject, type PoolObject } from '../core/config.js';
import type { PoolConfig } from '../core/schemas.js';
import { InlinePool } from './inline-pool.js';
import { isPool, type Pool } from './types.js';
import { workerPool } from './worker-pool.js';

/** The pool a configuration asks for (piscina by default), or the `Pool` given. */
export function createPool(config: PoolConfig | PoolObject | Pool | undefined): Pool {
  if (isPool(config)) return config;
  if (isPoolObject(config)) return config as unknown as Pool;
  const kind = config?.kind ?? 'piscina';
  return kind === 'inline' ? new InlinePool() : workerPool({ ...config, kind });
}
