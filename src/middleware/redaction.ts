import { callNext, streamNext } from './next-safely.js';
import { observeStream } from './observe-stream.js';
import { createRedactor, redact as defaultRedactor, type Redactor, type RedactorOptions } from '../core/redact.js';
import { resolveRedactionOptions } from './options.js';
import type { CallNext, Invocation, Middleware, StreamNext } from './types.js';

export interface RedactionMiddleware extends Middleware {
  /** The redactor this middleware uses; give it to `hooks()` or your logger. */
  readonly redact: Redactor;
}

/**
 * Scrubs every error on its way out (message, stack, `context`, own fields and causes), in
 * place, keeping its class and `code`, so the caller, the executor's stats history and the
 * `settled` event never hold a secret. Place it outermost to cover the errors of every layer.
 * A successful call costs nothing: results and chunks are data for the caller and pass untouched.
 *
 * @example new Executor({ middleware: [redaction({ secrets: [process.env.OPENAI_API_KEY!] }), ...] })
 */
export function redaction(options: RedactorOptions = {}): RedactionMiddleware {
  resolveRedactionOptions(options);
  const redactor = options.keys || options.secrets || options.patterns ? createRedactor(options) : defaultRedactor;
  const scrub = (err: unknown): unknown => redactor.scrubError(err);
  return {
    name: 'redaction',
    redact: redactor,
    call(inv: Invocation, next: CallNext): Promise<unknown> {
      return callNext(next, inv).catch((err: unknown) => {
        throw scrub(err);
      });
    },
    stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      return observeStream(streamNext(next, inv), { error: scrub });
    },
  };
}
