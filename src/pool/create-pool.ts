import type { PoolConfig } from '../core/schemas.js';
import { InlinePool } from './inline-pool.js';
import type { Pool } from './types.js';

/** The pool a configuration asks for (inline by default). */
export function createPool(config: PoolConfig | undefined): Pool {
  const kind = config?.kind ?? 'inline';
  switch (kind) {
    case 'inline':
      return new InlinePool();
    default:
      throw new Error(`pool kind '${kind}' is not available in this build`);
  }
}
