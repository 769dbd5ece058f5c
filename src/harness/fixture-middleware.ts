import { circuitBreaker } from '../middleware/circuit-breaker.js';
import { HookRegistry, HookType } from '../middleware/hook-registry.js';
import { hooks } from '../middleware/hooks.js';
import { metrics, type MetricsMiddleware } from '../middleware/metrics.js';
import { policyGate } from '../middleware/policy-gate.js';
import { redaction } from '../middleware/redaction.js';
import { retry } from '../middleware/retry.js';
import { timeout } from '../middleware/timeout.js';
import type { Middleware } from '../middleware/types.js';
import type { MiddlewareSpec } from './fixture.js';
import { seededRandom } from './mock-random.js';

export interface FixtureMiddleware {
  middleware: Middleware[];
  /** The metrics middleware, when the fixture lists one (its snapshot goes into the report). */
  metrics: MetricsMiddleware | undefined;
  /** Calls the counting hooks saw, when the fixture lists `hooks`. */
  hookCalls: { pre: number; post: number };
}

/**
 * The middleware a fixture names, outermost first. Secrets the run knows (an API key from the
 * environment) are given to `redaction`; `retry` draws its jitter from the run's seed.
 */
export function fixtureMiddleware(specs: readonly MiddlewareSpec[], seed: number, secrets: readonly string[]): FixtureMiddleware {
  const out: FixtureMiddleware = { middleware: [], metrics: undefined, hookCalls: { pre: 0, post: 0 } };
  for (const spec of specs) {
    switch (spec.name) {
      case 'redaction':
        out.middleware.push(secrets.length > 0 ? redaction({ secrets: [...secrets] }) : redaction());
        break;
      case 'metrics':
        out.metrics = metrics();
        out.middleware.push(out.metrics);
        break;
      case 'policyGate':
        out.middleware.push(policyGate());
        break;
      case 'hooks': {
        const registry = new HookRegistry();
        registry.register(HookType.PRE_CALL, () => void out.hookCalls.pre++);
        registry.register(HookType.POST_CALL, () => void out.hookCalls.post++);
        out.middleware.push(hooks(registry));
        break;
      }
      case 'circuitBreaker':
        out.middleware.push(
          circuitBreaker({
            ...(spec.consecutive === undefined ? {} : { trip: { consecutive: spec.consecutive } }),
            ...(spec.openMs === undefined ? {} : { openMs: spec.openMs }),
          }),
        );
        break;
      case 'retry':
        out.middleware.push(
          retry({
            random: seededRandom(seed * 104729 + 3),
            ...(spec.maxAttempts === undefined ? {} : { maxAttempts: spec.maxAttempts }),
            ...(spec.baseDelayMs === undefined ? {} : { baseDelayMs: spec.baseDelayMs }),
            ...(spec.maxDelayMs === undefined ? {} : { maxDelayMs: spec.maxDelayMs }),
          }),
        );
        break;
      case 'timeout':
        out.middleware.push(timeout(spec.ms));
        break;
    }
  }
  return out;
}
