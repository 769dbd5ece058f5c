import type { LimiterObject, LimitsConfig, RateWindow } from '../core/schemas.js';
import { MemoryLimiter } from './memory-limiter.js';
import { RedisLimiter } from './redis-limiter.js';
import type { Limiter } from './types.js';

export interface NormalizedWindows {
  requests: RateWindow[];
  tokens: RateWindow[];
}

export function normalizeWindows(limits: LimitsConfig): NormalizedWindows {
  const list = (w: RateWindow | RateWindow[] | undefined): RateWindow[] => (w === undefined ? [] : Array.isArray(w) ? w : [w]);
  return { requests: list(limits.requests), tokens: list(limits.tokens) };
}

/**
 * The limiter a configuration asks for, or the `Limiter` object given. With no window configured it is a memory limiter
 * without windows: it still honours what providers say (a 429's retry-after, `x-ratelimit-*`
 * headers), which is the one limit a user may not know in advance.
 */
export function createLimiter(limits: LimitsConfig | LimiterObject | undefined): Limiter {
  if (limits === undefined) return new MemoryLimiter([], []);
  // A limiter object given in the configuration is used as is.
  if ('acquire' in limits) return limits as unknown as Limiter;
  const windows = normalizeWindows(limits);
  if (windows.requests.length === 0 && windows.tokens.length === 0) return new MemoryLimiter([], []);
  const store = limits.store ?? { kind: 'memory' as const };
  switch (store.kind) {
    case 'memory':
      return new MemoryLimiter(windows.requests, windows.tokens);
    case 'redis':
      return new RedisLimiter(windows.requests, windows.tokens, store);
  }
}
