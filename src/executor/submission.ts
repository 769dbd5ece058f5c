import { CallContext } from '../core/call-context.js';
import { ConfigError, ValidationError } from '../core/errors.js';
import type { Service } from '../core/service.js';
import type { Limiter } from '../limits/types.js';
import type { Pool } from '../pool/types.js';
import type { ExecutorStats } from './executor-stats.js';

export interface SubmissionOptions {
  pool: Pool;
  limiter: Limiter | undefined;
  validateRequests: boolean;
  /** Counted here by reason when a submission is refused. */
  rejected: ExecutorStats['rejected'];
}

/**
 * Everything a submission must pass before it is counted or queued: a service, a CallContext,
 * a handler the pool can run, a valid request, a token estimate that can ever fit. Refuses by
 * throwing (and counting the reason); returns the token estimate.
 */
export function checkSubmission(service: Service, request: unknown, context: CallContext, options: SubmissionOptions): number {
  const rejected = options.rejected;
  if (typeof service !== 'object' || service === null || typeof service.name !== 'string') {
    rejected.invalid++;
    throw new ConfigError('service', [{ path: '/', rule: 'type', message: 'must be a service made with defineService()' }]);
  }
  if (!(context instanceof CallContext)) {
    rejected.invalid++;
    throw new ValidationError('call context', [{ path: '/', rule: 'instanceOf', message: 'must be a CallContext (CallContext.new or CallContext.withTimeout)' }]);
  }
  if (service.module === undefined && options.pool.inProcess !== true) {
    rejected.invalid++;
    throw new ConfigError(`service '${service.name}'`, [{ path: '/module', rule: 'required', message: `an in-process \`handler\` runs only on the inline pool; this executor's pool is '${options.pool.kind}': give the service a handler \`module\`` }]);
  }
  const check = service.validateRequest;
  if (check !== undefined && options.validateRequests && !check(request)) {
    rejected.invalid++;
    throw new ValidationError(`request for '${service.name}'`, check.issues());
  }
  const tokens = service.estimateTokens === undefined ? 0 : service.estimateTokens(request);
  if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
    rejected.invalid++;
    throw new ValidationError(`token estimate for '${service.name}'`, [{ path: '/estimateTokens', rule: 'minimum', message: `must return a finite number >= 0, got ${String(tokens)}` }]);
  }
  try {
    options.limiter?.check(tokens);
  } catch (err) {
    rejected.overLimit++;
    throw err;
  }
  return tokens;
}

/**
 * `ready(services)`: an array of services made with defineService(); returned as it is.
 * @throws ValidationError (`E_VALIDATION`) naming each bad entry
 */
export function checkServices(services: unknown): readonly Service[] {
  if (!Array.isArray(services)) throw new ValidationError('services', [{ path: '/', rule: 'type', message: 'must be an array of services made with defineService()' }]);
  const issues = services.flatMap((s: unknown, i) =>
    typeof s === 'object' && s !== null && typeof (s as Service).name === 'string' ? [] : [{ path: `/${i}`, rule: 'type', message: 'must be a service made with defineService()' }],
  );
  if (issues.length > 0) throw new ValidationError('services', issues);
  return services as readonly Service[];
}
