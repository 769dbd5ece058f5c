import type { Attributes, Counter, Histogram, Meter, Span, UpDownCounter } from '@opentelemetry/api';
import { Type } from '@sinclair/typebox';
import { Fn } from '../core/bounds.js';
import type { Service } from '../core/service.js';
import { assertConfig, compile } from '../core/validate.js';
import type { ServiceCall } from '../core/service-call.js';
import type { CallNext, Invocation, Middleware, StreamNext } from '../middleware/types.js';
import { loadOtel, otelNow, type OtelApi } from './otel.js';
import { mergeUsage, totalOf, usageOf, type TokenUsage } from './usage.js';

/** Anything with `getTracer` (an OpenTelemetry `TracerProvider`). */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}
/** Anything with `getMeter` (an OpenTelemetry `MeterProvider`). */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): unknown;
}

export interface TelemetryOptions {
  /** The provider named on spans and metrics (`gen_ai.system`), fixed or per service. @default service name's prefix before '.' */
  provider?: string | ((service: Service) => string | undefined);
  /** The model named on spans (`gen_ai.request.model`). */
  model?: string;
  /** @default the global tracer provider (`trace.setGlobalTracerProvider`) */
  tracerProvider?: TracerProviderLike;
  /** @default the global meter provider (`metrics.setGlobalMeterProvider`) */
  meterProvider?: MeterProviderLike;
  /** Tokens of a result or chunk, when the built-in readers (OpenAI, Anthropic usage) do not fit. */
  usage?: (value: unknown) => { input?: number; output?: number; total?: number } | undefined;
}

export interface TelemetryMiddleware extends Middleware {
  /**
   * The per-attempt layer: list it inside `retry` (innermost) so each attempt becomes a child
   * span of the call's span (and an `attempt` event on it). Without it a call has one span.
   */
  readonly attempts: Middleware;
  /** Resolves once `@opentelemetry/api` was looked for; `true` if it is installed. */
  ready(): Promise<boolean>;
}

/** Providers are duck-typed: anything with `getTracer` / `getMeter`. */
const TelemetryOptionsSchema = Type.Object(
  {
    provider: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Fn()])),
    model: Type.Optional(Type.String({ maxLength: 256 })),
    tracerProvider: Type.Optional(Type.Object({ getTracer: Fn() })),
    meterProvider: Type.Optional(Type.Object({ getMeter: Fn() })),
    usage: Type.Optional(Fn()),
  },
  { additionalProperties: false },
);
const validOptions = compile(TelemetryOptionsSchema, { lazy: true });

const NAME = 'callpool';
const VERSION = '0.1.0';

interface Instruments {
  meter: Meter;
  calls: Counter;
  attempts: Counter;
  tokens: Counter;
  duration: Histogram;
  queueWait: Histogram;
  active: UpDownCounter;
}

/**
 * OpenTelemetry spans and metrics for every call and stream, through `@opentelemetry/api` (an
 * optional peer dependency: without it this middleware passes everything through). One span per
 * call (`callpool.call <service>` / `callpool.stream <service>`, kind CLIENT) with the queue wait,
 * the provider and model, the outcome code (`ok` or the error's `E_*` code) and the tokens; with
 * `attempts` listed inside `retry`, one child span per attempt. Metrics beside the Prometheus text
 * of `metrics()`: `callpool.calls` (counter by service, provider, outcome), `callpool.attempts`,
 * `callpool.tokens` (by direction), `callpool.call.duration` and `callpool.queue.wait`
 * (histograms, ms), `callpool.calls.active` (up-down counter).
 * List it outermost but one (after `redaction`), so it sees each call once with its final outcome.
 * @throws ConfigError (`E_CONFIG`) naming each bad option
 */
export function telemetry(options: TelemetryOptions = {}): TelemetryMiddleware {
  assertConfig(validOptions, options, 'telemetry options');
  const ready = loadOtel();
  const spans = new WeakMap<ServiceCall, Span>();
  let instruments: Instruments | undefined;
  const readUsage = options.usage ?? usageOf;

  const providerOf = (svc: Service): string | undefined => {
    if (typeof options.provider === 'function') return options.provider(svc);
    if (typeof options.provider === 'string') return options.provider;
    const dot = svc.name.indexOf('.');
    return dot > 0 ? svc.name.slice(0, dot) : undefined;
  };
  const tracer = (api: OtelApi) => (options.tracerProvider?.getTracer(NAME, VERSION) as ReturnType<OtelApi['trace']['getTracer']> | undefined) ?? api.trace.getTracer(NAME, VERSION);
  const meterOf = (api: OtelApi): Instruments => {
    const meter = (options.meterProvider?.getMeter(NAME, VERSION) as Meter | undefined) ?? api.metrics.getMeter(NAME, VERSION);
    if (instruments?.meter === meter) return instruments;
    instruments = {
      meter,
      calls: meter.createCounter('callpool.calls', { description: 'Calls and streams settled, by outcome' }),
      attempts: meter.createCounter('callpool.attempts', { description: 'Attempts made (a retried call has several)' }),
      tokens: meter.createCounter('callpool.tokens', { description: 'Tokens the provider reported', unit: '{token}' }),
      duration: meter.createHistogram('callpool.call.duration', { description: 'From admission to outcome', unit: 'ms' }),
      queueWait: meter.createHistogram('callpool.queue.wait', { description: 'Time in the queue before admission', unit: 'ms' }),
      active: meter.createUpDownCounter('callpool.calls.active', { description: 'Calls and streams running now' }),
    };
    return instruments;
  };

  const start = (api: OtelApi, inv: Invocation): { span: Span; attrs: Attributes; m: Instruments; t0: number } => {
    const provider = providerOf(inv.service);
    const attrs: Attributes = { 'callpool.service': inv.service.name, 'callpool.kind': inv.kind };
    if (provider !== undefined) attrs['gen_ai.system'] = provider;
    const span = tracer(api).startSpan(`callpool.${inv.kind} ${inv.service.name}`, {
      kind: api.SpanKind.CLIENT,
      attributes: { ...attrs, 'callpool.call_id': inv.call.id, 'callpool.branch_id': inv.ctx.branchId, ...(options.model === undefined ? {} : { 'gen_ai.request.model': options.model }) },
    });
    const wait = inv.call.queueWaitMs;
    if (wait !== undefined) span.setAttribute('callpool.queue_wait_ms', wait);
    spans.set(inv.call, span);
    const m = meterOf(api);
    if (wait !== undefined) m.queueWait.record(wait, attrs);
    m.active.add(1, attrs);
    return { span, attrs, m, t0: performance.now() };
  };

  const finish = (api: OtelApi, s: ReturnType<typeof start>, inv: Invocation, err: unknown, usage: TokenUsage | undefined, failed: boolean) => {
    const outcome = failed ? codeOf(err) : 'ok';
    const { span, attrs, m } = s;
    span.setAttribute('callpool.outcome', outcome);
    span.setAttribute('callpool.attempts', Math.max(inv.attempt, attemptsSeen.get(inv.call) ?? 1));
    if (usage?.input !== undefined) span.setAttribute('gen_ai.usage.input_tokens', usage.input);
    if (usage?.output !== undefined) span.setAttribute('gen_ai.usage.output_tokens', usage.output);
    const total = totalOf(usage);
    if (total !== undefined) span.setAttribute('callpool.tokens', total);
    if (failed) {
      span.recordException(err instanceof Error ? { name: err.name, message: err.message, code: outcome } : String(err));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome });
    } else {
      span.setStatus({ code: api.SpanStatusCode.OK });
    }
    span.end();
    spans.delete(inv.call);
    m.active.add(-1, attrs);
    m.calls.add(1, { ...attrs, 'callpool.outcome': outcome });
    m.duration.record(performance.now() - s.t0, { ...attrs, 'callpool.outcome': outcome });
    if (usage?.input !== undefined) m.tokens.add(usage.input, { ...attrs, 'gen_ai.token.type': 'input' });
    if (usage?.output !== undefined) m.tokens.add(usage.output, { ...attrs, 'gen_ai.token.type': 'output' });
    if (usage?.input === undefined && usage?.output === undefined && total !== undefined) m.tokens.add(total, { ...attrs, 'gen_ai.token.type': 'total' });
  };

  const attemptsSeen = new WeakMap<ServiceCall, number>();

  const outer: TelemetryMiddleware = {
    name: 'telemetry',
    async call(inv: Invocation, next: CallNext): Promise<unknown> {
      const api = otelNow() ?? (await ready);
      if (api === undefined) return next(inv);
      const s = start(api, inv);
      try {
        const out = await api.context.with(api.trace.setSpan(api.context.active(), s.span), () => next(inv));
        finish(api, s, inv, undefined, readUsage(out), false);
        return out;
      } catch (err) {
        finish(api, s, inv, err, undefined, true);
        throw err;
      }
    },
    async *stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      const api = otelNow() ?? (await ready);
      if (api === undefined) return yield* next(inv);
      const s = start(api, inv);
      let usage: TokenUsage | undefined;
      let chunks = 0;
      let done = false;
      try {
        for await (const chunk of next(inv)) {
          if (chunks++ === 0) s.span.addEvent('first_chunk');
          usage = mergeUsage(usage, readUsage(chunk));
          yield chunk;
        }
        done = true;
        s.span.setAttribute('callpool.chunks', chunks);
        finish(api, s, inv, undefined, usage, false);
      } catch (err) {
        done = true;
        s.span.setAttribute('callpool.chunks', chunks);
        finish(api, s, inv, err, usage, true);
        throw err;
      } finally {
        // A consumer's `break` ends the stream without an error: a cancellation.
        if (!done) {
          s.span.setAttribute('callpool.chunks', chunks);
          finish(api, s, inv, { code: 'E_CANCELLED' }, usage, true);
        }
      }
    },
    attempts: {
      name: 'telemetry.attempts',
      call(inv: Invocation, next: CallNext): Promise<unknown> {
        const api = otelNow();
        const parent = spans.get(inv.call);
        if (api === undefined || parent === undefined) return next(inv);
        attemptsSeen.set(inv.call, inv.attempt);
        parent.addEvent('attempt', { 'callpool.attempt': inv.attempt });
        meterOf(api).attempts.add(1, { 'callpool.service': inv.service.name });
        const span = tracer(api).startSpan(`callpool.attempt ${inv.attempt}`, { attributes: { 'callpool.attempt': inv.attempt } }, api.trace.setSpan(api.context.active(), parent));
        return next(inv).then(
          (out) => {
            span.setAttribute('callpool.outcome', 'ok');
            span.end();
            return out;
          },
          (err: unknown) => {
            span.setAttribute('callpool.outcome', codeOf(err));
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: codeOf(err) });
            span.end();
            throw err;
          },
        );
      },
    },
    ready: () => ready.then((api) => api !== undefined),
  };
  return outer;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'E_UNKNOWN';
}
