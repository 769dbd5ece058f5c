import type { PoolConfig, PoolObject } from '../core/schemas.js';
import { InlinePool } from './inline-pool.js';
import { PiscinaPool } from './piscina-pool.js';
import { TinypoolPool } from './tinypool-pool.js';
import type { Pool } from './types.js';

/** The pool a configuration asks for (piscina by default). */
export function createPool(config: PoolConfig | PoolObject | undefined): Pool {
  // A pool object given in the configuration (the Pool contract core wires in) is used as is.
  if (config !== undefined && 'run' in config) return config as unknown as Pool;
  const kind = config?.kind ?? 'piscina';
  switch (kind) {
    case 'inline':
      return new InlinePool();
    case 'piscina':
      return new PiscinaPool(config);
    case 'tinypool':
      return new TinypoolPool(config);
  }
}
