import type { TSchema } from '@sinclair/typebox';
import { withMeta, type Envelope } from '../core/envelope.js';
import { ValidationError } from '../core/errors.js';
import type { HandlerContext } from '../core/service.js';
import { compile, type Validator } from '../core/validate.js';
import { sharedTransport } from '../transport/create-transport.js';
import { providerLimitsFromHeaders } from '../transport/rate-limit-headers.js';
import { buildRequest } from './endpoint.js';
import { sendOptions } from './send-options.js';
import type { JsonEndpointOptions, JsonRequest } from './json-service.js';

/** Compiled response schemas of this thread, by their JSON text (a handful per process). */
const validators = new Map<string, Validator<unknown>>();

function validatorFor(schema: Record<string, unknown>): Validator<unknown> {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (v === undefined) {
    v = compile(schema as unknown as TSchema) as Validator<unknown>;
    validators.set(key, v);
  }
  return v;
}

/** Runs one `jsonService` call: the parsed (and, with a schema, validated) response body. */
export async function callJson(request: JsonRequest, ctx: HandlerContext, signal: AbortSignal): Promise<Envelope<unknown> | unknown> {
  const opts = ctx.options as JsonEndpointOptions;
  const req = buildRequest({
    baseURL: opts.baseURL,
    path: request.path ?? '',
    method: request.method ?? opts.method,
    apiKey: opts.apiKey,
    headers: { ...opts.headers, ...request.headers },
    query: request.query,
    body: request.body,
  });
  const res = await sharedTransport(opts.transport).json(req, sendOptions(opts, ctx, signal));
  if (opts.responseSchema !== undefined) {
    const check = validatorFor(opts.responseSchema);
    if (!check(res.body)) throw new ValidationError('response', check.issues().slice(0, 5));
  }
  const limits = providerLimitsFromHeaders(res.headers);
  return limits === undefined ? res.body : withMeta(res.body, { providerLimits: limits });
}
