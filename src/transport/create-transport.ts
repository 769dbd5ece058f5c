import { ConfigError } from '../core/errors.js';
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
  switch (kind) {
    case 'undici':
      return new WireTransport(new UndiciWire(options));
    case 'node-fetch':
      return new WireTransport(new NodeFetchWire(options));
    default:
      throw new ConfigError('transport', [{ path: '/transport', rule: 'enum', message: `must be 'undici' or 'node-fetch', got '${String(kind)}'` }]);
  }
}

const shared = new Map<TransportKind, HttpTransport>();

/** The transport of this thread for `kind` (handlers share it, so keep-alive sockets are reused). */
export function sharedTransport(kind: TransportKind = 'undici'): HttpTransport {
  let t = shared.get(kind);
  if (t === undefined) shared.set(kind, (t = createTransport(kind)));
  return t;
}
