import { ValidationError, type Issue } from '../core/errors.js';

/** The one thing the transport needs from a set of response headers (fetch `Headers` fits). */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * The arguments of the exported header parsers: something with `get` (fetch `Headers` fits),
 * and a finite epoch instant to measure reset times from.
 * @throws ValidationError (`E_VALIDATION`) naming the argument
 */
export function checkHeaderArgs(headers: unknown, nowEpochMs: unknown): asserts headers is HeaderReader {
  const issues: Issue[] = [];
  if (typeof (headers as { get?: unknown } | null | undefined)?.get !== 'function') issues.push({ path: '/headers', rule: 'type', message: 'must have a get(name) method (a fetch Headers fits)' });
  if (typeof nowEpochMs !== 'number' || !Number.isFinite(nowEpochMs)) issues.push({ path: '/nowEpochMs', rule: 'type', message: 'must be a finite number (ms since the epoch)' });
  if (issues.length > 0) throw new ValidationError('header parser arguments', issues);
}
