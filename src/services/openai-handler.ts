import type { TSchema } from '@sinclair/typebox';
import { metaOnly, withMeta, type Envelope, type ProviderLimits } from '../core/envelope.js';
import { TransportError, ValidationError } from '../core/errors.js';
import type { Handler, HandlerContext } from '../core/service.js';
import { compile, type Validator } from '../core/validate.js';
import { sharedTransport } from '../transport/create-transport.js';
import type { HttpTransport, TransportKind } from '../transport/http-transport.js';
import { providerLimitsFromHeaders } from '../transport/rate-limit-headers.js';
import { safePreview } from '../transport/redact.js';
import { SSE_DONE } from '../transport/sse.js';
import { buildRequest } from './endpoint.js';
import type { EndpointOptions } from './openai-options.js';
import { requestBody } from './request-body.js';
import { sendOptions } from './send-options.js';

/** One OpenAI-compatible route: where it is and what its responses look like. */
export interface OpenAIRoute {
  path: string;
  response: TSchema;
  /** Schema of one streamed chunk; routes without one have no `stream`. */
  chunk?: TSchema;
}

type Usage = { total_tokens?: unknown } | null | undefined;

/**
 * The handler for a route: builds the request from `ctx.options`, sends it with the thread's
 * keep-alive transport (reporting the instant it leaves through `ctx.sent`), validates the body with a compiled schema and wraps the result with the
 * provider's usage and rate-limit headers (the executor unwraps them).
 */
export function openaiHandler(route: OpenAIRoute, transport: (kind: TransportKind) => HttpTransport = sharedTransport): Required<Pick<Handler, 'call'>> & Handler {
  const checkResponse = compile(route.response, { lazy: true });
  const checkChunk = route.chunk === undefined ? undefined : compile(route.chunk, { lazy: true });

  const handler: Handler & Required<Pick<Handler, 'call'>> = {
    async call(request: unknown, ctx: HandlerContext, signal: AbortSignal): Promise<Envelope<unknown>> {
      const opts = ctx.options as EndpointOptions;
      const req = buildRequest({ baseURL: opts.baseURL, path: route.path, apiKey: opts.apiKey, headers: opts.headers, body: withModel(request, opts, false) });
      const res = await transport(opts.transport).json(req, sendOptions(opts, ctx, signal));
      const body = validated(checkResponse, res.body, 'response');
      return withMeta(body, meta(body as { usage?: Usage }, providerLimitsFromHeaders(res.headers)));
    },
  };
  if (checkChunk !== undefined) {
    handler.stream = async function* stream(request: unknown, ctx: HandlerContext, signal: AbortSignal): AsyncGenerator<unknown> {
      const opts = ctx.options as EndpointOptions;
      const req = buildRequest({ baseURL: opts.baseURL, path: route.path, apiKey: opts.apiKey, headers: { ...opts.headers, accept: 'text/event-stream' }, body: withModel(request, opts, true) });
      const res = await transport(opts.transport).sse(req, sendOptions(opts, ctx, signal));
      try {
        const limits = providerLimitsFromHeaders(res.headers);
        if (limits !== undefined) yield metaOnly({ providerLimits: limits });
        for await (const event of res.events) {
          if (event.data === SSE_DONE) return;
          const chunk = validated(checkChunk, parseChunk(event.data, secretsOf(opts)), 'response chunk');
          yield chunk;
          const tokens = tokensOf((chunk as { usage?: Usage }).usage);
          if (tokens !== undefined) yield metaOnly({ usage: { tokens } });
        }
      } finally {
        res.close();
      }
    };
  }
  return handler;
}

function withModel(request: unknown, opts: EndpointOptions, stream: boolean): Record<string, unknown> {
  // A call drops a `stream: true` the caller left in; other values of `stream` are sent as given.
  const body = requestBody(request, !stream && (request as { stream?: unknown }).stream === true ? 'stream' : undefined);
  if (body['model'] === undefined && opts.model !== undefined) body['model'] = opts.model;
  if (stream) {
    body['stream'] = true;
    if (opts.streamUsage && body['stream_options'] === undefined) body['stream_options'] = { include_usage: true };
  }
  return body;
}

function validated(check: Validator<unknown>, value: unknown, what: string): unknown {
  if (!check(value)) throw new ValidationError(what, check.issues().slice(0, 5));
  return value;
}

function parseChunk(data: string, secrets: readonly string[]): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new TransportError(`stream chunk is not JSON: ${safePreview(data, secrets, 80)}`, undefined, { retryable: true });
  }
  const err = (parsed as { error?: unknown } | null)?.error;
  if (err !== undefined && err !== null) {
    const msg = typeof err === 'string' ? err : (err as { message?: unknown }).message;
    throw new TransportError(`upstream error in stream: ${safePreview(typeof msg === 'string' ? msg : JSON.stringify(err), secrets)}`, undefined, { retryable: true });
  }
  return parsed;
}

function tokensOf(usage: Usage): number | undefined {
  const t = usage?.total_tokens;
  return typeof t === 'number' ? t : undefined;
}

function meta(body: { usage?: Usage }, providerLimits: ProviderLimits | undefined) {
  const tokens = tokensOf(body.usage);
  return { ...(tokens === undefined ? {} : { usage: { tokens } }), ...(providerLimits === undefined ? {} : { providerLimits }) };
}

function secretsOf(opts: EndpointOptions): string[] {
  return opts.apiKey ? [opts.apiKey] : [];
}
