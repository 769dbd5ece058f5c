import { ConfigError, type Issue } from '../core/errors.js';
import type { CallNext, Middleware, StreamNext } from './types.js';

export interface Chain {
  call: CallNext;
  stream: StreamNext;
}

/**
 * Builds the onion once. The first middleware listed is the outermost: it sees a call first
 * and its outcome last. A middleware without a `call` (or `stream`) side is skipped for that
 * kind, so it costs nothing there.
 */
export function compose(middleware: readonly Middleware[], terminal: Chain): Chain {
  checkArgs(middleware, terminal);
  let call = terminal.call;
  let stream = terminal.stream;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const mw = middleware[i]!;
    if (typeof mw.call === 'function') {
      const next = call;
      const fn = mw.call;
      call = (inv) => fn.call(mw, inv, next);
    }
    if (typeof mw.stream === 'function') {
      const next = stream;
      const fn = mw.stream;
      stream = (inv) => fn.call(mw, inv, next);
    }
  }
  return { call, stream };
}

/** @throws ConfigError (`E_CONFIG`) naming each bad argument */
function checkArgs(middleware: unknown, terminal: unknown): void {
  const issues: Issue[] = [];
  if (!Array.isArray(middleware)) issues.push({ path: '/middleware', rule: 'type', message: 'must be an array of middleware' });
  else {
    middleware.forEach((mw: unknown, i) => {
      if (typeof mw !== 'object' || mw === null) issues.push({ path: `/middleware/${i}`, rule: 'type', message: 'must be a middleware object' });
    });
  }
  const t = terminal as { call?: unknown; stream?: unknown } | null | undefined;
  if (typeof t?.call !== 'function' || typeof t.stream !== 'function') issues.push({ path: '/terminal', rule: 'type', message: 'must have call and stream functions' });
  if (issues.length > 0) throw new ConfigError('compose() arguments', issues);
}
