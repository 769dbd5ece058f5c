import { metaOnly, withMeta, type Envelope } from '../core/envelope.js';
import { TransportError, ValidationError } from '../core/errors.js';
import type { Handler, HandlerContext } from '../core/service.js';
import { compile, type Validator } from '../core/validate.js';
import { anthropicLimitsFromHeaders } from '../transport/anthropic-rate-limit-headers.js';
import { sharedTransport } from '../transport/create-transport.js';
import type { HttpTransport } from '../transport/http-transport.js';
import { safePreview } from '../transport/redact.js';
import { buildRequest } from './endpoint.js';
import { requestBody } from './request-body.js';
import type { AnthropicEndpointOptions } from './anthropic-options.js';
import { MessageEventSchema, MessageSchema, type AnthropicUsage, type MessageEvent } from './anthropic-schemas.js';

const PATH = 'v1/messages';

/**
 * The handler of Anthropic's Messages API: `x-api-key` and `anthropic-version` headers, the
 * message validated, usage (`input_tokens + output_tokens`) and `anthropic-ratelimit-*` headers
 * handed to the executor. A stream yields every event (`message_start`, `content_block_delta`,
 * ...) as the provider sent it and reports usage from `message_start` and `message_delta`.
 */
export function anthropicHandler(transport: () => HttpTransport = sharedTransport): Required<Handler> {
  const checkMessage: Validator<unknown> = compile(MessageSchema, { lazy: true });
  const checkEvent: Validator<unknown> = compile(MessageEventSchema, { lazy: true });
  return {
    async call(request: unknown, ctx: HandlerContext, signal: AbortSignal): Promise<Envelope<unknown>> {
      const opts = ctx.options as AnthropicEndpointOptions;
      const res = await transport().json(requestOf(request, opts, false), { signal, timeoutMs: opts.timeoutMs, secrets: secretsOf(opts), onSent: sentOf(ctx) });
      if (!checkMessage(res.body)) throw new ValidationError('response', checkMessage.issues().slice(0, 5));
      const body = res.body as { usage?: AnthropicUsage };
      const tokens = tokensOf(body.usage);
      const limits = anthropicLimitsFromHeaders(res.headers);
      return withMeta(res.body, { ...(tokens === undefined ? {} : { usage: { tokens } }), ...(limits === undefined ? {} : { providerLimits: limits }) });
    },
    async *stream(request: unknown, ctx: HandlerContext, signal: AbortSignal): AsyncGenerator<unknown> {
      const opts = ctx.options as AnthropicEndpointOptions;
      const secrets = secretsOf(opts);
      const res = await transport().sse(requestOf(request, opts, true), { signal, timeoutMs: opts.timeoutMs, idleTimeoutMs: opts.idleTimeoutMs, secrets, onSent: sentOf(ctx) });
      try {
        const limits = anthropicLimitsFromHeaders(res.headers);
        if (limits !== undefined) yield metaOnly({ providerLimits: limits });
        // message_delta's output_tokens is cumulative: report only what is new since the last report.
        let reported = 0;
        let input = 0;
        for await (const e of res.events) {
          const event = parseEvent(e.data, secrets);
          if (!checkEvent(event)) throw new ValidationError('response chunk', checkEvent.issues().slice(0, 5));
          const ev = event as MessageEvent;
          if (ev.type === 'error') throw streamError(event, secrets);
          yield ev;
          let total: number | undefined;
          if (ev.type === 'message_start') {
            input = inputOf(ev.message?.usage);
            total = input + (ev.message?.usage?.output_tokens ?? 0);
          } else if (ev.type === 'message_delta' && typeof ev.usage?.output_tokens === 'number') {
            total = (typeof ev.usage.input_tokens === 'number' ? inputOf(ev.usage) : input) + ev.usage.output_tokens;
          }
          if (total !== undefined && total > reported) {
            yield metaOnly({ usage: { tokens: total - reported } });
            reported = total;
          }
          if (ev.type === 'message_stop') return;
        }
      } finally {
        res.close();
      }
    },
  };
}

function requestOf(request: unknown, opts: AnthropicEndpointOptions, stream: boolean) {
  const body = requestBody(request, 'stream');
  if (body['model'] === undefined && opts.model !== undefined) body['model'] = opts.model;
  if (body['max_tokens'] === undefined) body['max_tokens'] = opts.defaultMaxTokens;
  if (stream) body['stream'] = true;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  if (stream) headers['accept'] = 'text/event-stream';
  return buildRequest({ baseURL: opts.baseURL, path: PATH, headers, body });
}

function inputOf(u: AnthropicUsage | undefined): number {
  return (u?.input_tokens ?? 0) + (u?.cache_creation_input_tokens ?? 0) + (u?.cache_read_input_tokens ?? 0);
}

/** Tokens of a whole message: input (cache reads and writes included) plus output. */
export function tokensOf(u: AnthropicUsage | undefined): number | undefined {
  if (u === undefined || (typeof u.input_tokens !== 'number' && typeof u.output_tokens !== 'number')) return undefined;
  return inputOf(u) + (u.output_tokens ?? 0);
}

function parseEvent(data: string, secrets: readonly string[]): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new TransportError(`stream event is not JSON: ${safePreview(data, secrets, 80)}`, undefined, { retryable: true });
  }
}

/** An `error` event mid-stream (`overloaded_error`, `api_error`, ...): retryable, as its status would be. */
function streamError(event: unknown, secrets: readonly string[]): TransportError {
  const err = (event as { error?: { type?: unknown; message?: unknown } }).error;
  const type = typeof err?.type === 'string' ? err.type : 'error';
  const msg = typeof err?.message === 'string' ? err.message : '';
  return new TransportError(`upstream error in stream: ${type}${msg === '' ? '' : `: ${safePreview(msg, secrets)}`}`, undefined, { retryable: type !== 'invalid_request_error' && type !== 'authentication_error' && type !== 'permission_error' });
}

function secretsOf(opts: AnthropicEndpointOptions): string[] {
  return opts.apiKey ? [opts.apiKey] : [];
}

/** The pool's send report (`ctx.sent`), handed to the transport so the limiter counts where the request left. */
function sentOf(ctx: HandlerContext): (() => void) | undefined {
  return (ctx as HandlerContext & { sent?: () => void }).sent;
}
