import type { HandlerContext } from '../core/service.js';
import type { SendOptions } from '../transport/http-transport.js';

/** The options every HTTP service's handler has (see `EndpointOptions`, `JsonEndpointOptions`). */
interface HttpEndpointOptions {
  apiKey: string | undefined;
  timeoutMs: number;
  idleTimeoutMs?: number;
  maxRedirects: number;
  maxResponseBytes: number;
}

/**
 * The pool adds `sent()` to the handler context where it supports send-time accounting: the
 * transport calls it when the request is handed to the socket, so the limiter counts the call
 * where the provider sees it. Without it (older pools) the pool reports the handler's start.
 */
type SendReporting = HandlerContext & { sent?: () => void };

/** Transport options of one call of an HTTP service. */
export function sendOptions(opts: HttpEndpointOptions, ctx: HandlerContext, signal: AbortSignal): SendOptions {
  return {
    signal,
    timeoutMs: opts.timeoutMs,
    idleTimeoutMs: opts.idleTimeoutMs,
    secrets: opts.apiKey ? [opts.apiKey] : [],
    maxRedirects: opts.maxRedirects,
    maxResponseBytes: opts.maxResponseBytes,
    onSent: (ctx as SendReporting).sent,
  };
}
