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
