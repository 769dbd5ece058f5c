import { MAX_TIMER_MS } from '../core/bounds.js';
import { ConfigError, type Issue } from '../core/errors.js';
import type { HttpTransport, TransportKind, TransportOptions } from './http-transport.js';
import { NodeFetchWire } from './node-fetch-wire.js';
import { UndiciWire } from './undici-wire.js';
import { WireTransport } from './wire-transport.js';

/**
 * A transport of the given kind: `'undici'` (the default: undici's dispatcher, measured several
 * times node-fetch's throughput) or `'node-fetch'` (node-fetch 3 over node:http agents).
 * @example const t = createTransport('node-fetch', { maxSockets: 8 })
 */
export function createTransport(kind: TransportKind = 'undici', options: TransportOptions = {}): HttpTransport {
  checkOptions(options);
  switch (kind) {
    case 'undici':
      return new WireTransport(new UndiciWire(options));
    case 'node-fetch':
      return new WireTransport(new NodeFetchWire(options));
    default:
      throw new ConfigError('transport', [{ path: '/transport', rule: 'enum', message: `must be 'undici' or 'node-fetch', got '${String(kind)}'` }]);
  }
}

/**
 * `maxSockets` a whole number >= 1 (or Infinity), `freeSocketTimeoutMs` in (0, 2^31-1],
 * `pipelining` a whole number in [1, 100].
 * @throws ConfigError (`E_CONFIG`) naming each bad field
 */
function checkOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError('transport options', [{ path: '/', rule: 'type', message: 'must be an object ({ maxSockets?, freeSocketTimeoutMs?, pipelining? })' }]);
  }
  const issues: Issue[] = [];
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'maxSockets' && key !== 'freeSocketTimeoutMs' && key !== 'pipelining') issues.push({ path: `/${key}`, rule: 'additionalProperties', message: 'is not an allowed property' });
  }
  const { maxSockets, freeSocketTimeoutMs, pipelining } = o;
  if (maxSockets !== undefined && maxSockets !== Infinity && !(Number.isInteger(maxSockets) && (maxSockets as number) >= 1)) {
    issues.push({ path: '/maxSockets', rule: 'minimum', message: 'must be a whole number >= 1, or Infinity' });
  }
  if (freeSocketTimeoutMs !== undefined && !(typeof freeSocketTimeoutMs === 'number' && freeSocketTimeoutMs > 0 && freeSocketTimeoutMs <= MAX_TIMER_MS)) {
    issues.push({ path: '/freeSocketTimeoutMs', rule: 'maximum', message: `must be a number of ms in (0, ${MAX_TIMER_MS}]` });
  }
  if (pipelining !== undefined && !(Number.isInteger(pipelining) && (pipelining as number) >= 1 && (pipelining as number) <= 100)) {
    issues.push({ path: '/pipelining', rule: 'maximum', message: 'must be a whole number in [1, 100]' });
  }
  if (issues.length > 0) throw new ConfigError('transport options', issues);
}

const shared = new Map<TransportKind, HttpTransport>();

/** The transport of this thread for `kind` (handlers share it, so keep-alive sockets are reused). */
export function sharedTransport(kind: TransportKind = 'undici'): HttpTransport {
  let t = shared.get(kind);
  if (t === undefined) shared.set(kind, (t = createTransport(kind)));
  return t;
}
