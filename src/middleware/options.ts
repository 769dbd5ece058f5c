import { Type, type Static } from '@sinclair/typebox';
import { Fn, Int, MAX_TIMER_MS, MAX_WINDOW_MS, Ms } from '../core/bounds.js';
import type { HookError } from '../core/errors.js';
import { RedactorOptionsSchema, type Redactor, type RedactorOptions } from '../core/redact.js';
import { optionsResolver } from '../core/validate.js';
import type { Sleep } from './sleep.js';
import type { Invocation } from './types.js';

/**
 * The middleware factories' options, each written once: the TypeBox schema carries every
 * range and default, the option types are its `Static`, and a factory gets its options
 * checked (`E_CONFIG`, every problem at once, each naming its field) and filled by
 * `resolve*Options`. A factory repeats no default.
 */

// ---- retry ----

export interface RetryInfo {
  /** The attempt that failed (1-based). */
  attempt: number;
  /** How long retry waits before the next attempt (ms). */
  delayMs: number;
  error: unknown;
}

export const RetryOptionsSchema = Type.Object(
  {
    /** Attempts in all, the first included, in [1, 100]. @default 3 */
    maxAttempts: Type.Optional(Int(1, 100, { default: 3 })),
    /** Upper bound of the first delay, ms in [0, 2^31-1]. @default 100 */
    baseDelayMs: Type.Optional(Ms({ zero: true, default: 100 })),
    /** No delay is ever longer than this, ms in [0, 2^31-1] (except one a rate-limit error asks for). @default 10000 */
    maxDelayMs: Type.Optional(Ms({ zero: true, default: 10_000 })),
    /** Growth of the bound per attempt, in [1, 100]. @default 2 */
    factor: Type.Optional(Type.Number({ minimum: 1, maximum: 100, default: 2 })),
    /** Which errors are worth another attempt. @default isRetryable (the error's own `retryable` flag) */
    shouldRetry: Type.Optional(Fn<(error: unknown, attempt: number) => boolean>()),
    /** Told before each wait. */
    onRetry: Type.Optional(Fn<(info: RetryInfo) => void>()),
    /** The clock deadlines are measured on. @default the monotonic `now` (the clock of `CallContext.deadline`) */
    clock: Type.Optional(Fn<() => number>()),
    /** How to wait; must reject with the signal's reason when it aborts. @default a timer */
    sleep: Type.Optional(Fn<Sleep>()),
    /** Uniform in [0, 1). @default Math.random */
    random: Type.Optional(Fn<() => number>()),
  },
  { additionalProperties: false },
);
export type RetryOptions = Static<typeof RetryOptionsSchema>;
type WithDefaults<T, K extends keyof T> = T & Required<Pick<T, K>>;
export const resolveRetryOptions = optionsResolver<typeof RetryOptionsSchema, WithDefaults<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'factor'>>(RetryOptionsSchema, 'retry options');

// ---- timeout ----

/** `timeout(ms)`: the per-attempt limit, ms in (0, 2^31-1]. */
export const TimeoutArgsSchema = Type.Object({ ms: Ms() });
export const resolveTimeoutArgs = optionsResolver<typeof TimeoutArgsSchema>(TimeoutArgsSchema, 'timeout');

// ---- circuit breaker ----

export const FailureRatioOptionsSchema = Type.Object(
  {
    /** Trip when failures / outcomes reaches this, in (0, 1]. */
    ratio: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    /** The rolling window outcomes are counted over, ms in (0, 86400000]. @default 10000 */
    windowMs: Type.Optional(Ms({ max: MAX_WINDOW_MS, default: 10_000 })),
    /** No trip with fewer outcomes than this in the window, in [1, 1e6]. @default 10 */
    minVolume: Type.Optional(Int(1, 1_000_000, { default: 10 })),
    /** Slices of the window, in [1, 1000]; outcomes expire a slice at a time. @default 10 */
    buckets: Type.Optional(Int(1, 1000, { default: 10 })),
  },
  { additionalProperties: false },
);
export type FailureRatioOptions = Static<typeof FailureRatioOptionsSchema>;
export const resolveFailureRatioOptions = optionsResolver<typeof FailureRatioOptionsSchema, WithDefaults<FailureRatioOptions, 'windowMs' | 'minVolume' | 'buckets'>>(FailureRatioOptionsSchema, 'failure ratio options');

export const ConsecutiveTripSchema = Type.Object(
  /** Trip after this many failures in a row, in [1, 1e6]. */
  { consecutive: Int(1, 1_000_000) },
  { additionalProperties: false },
);

/**
 * When a closed circuit trips. The breaker tells its policy of every counted outcome (only
 * failures that pass its filter, and successes) and opens when `failure` returns true.
 */
export interface TripPolicy {
  success(at: number): void;
  /** Records a failure; true when the circuit should open. */
  failure(at: number): boolean;
  /** Forgets everything (the circuit closed again). */
  reset(): void;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface StateChange {
  /** The circuit (by default the service name). */
  key: string;
  from: CircuitState;
  to: CircuitState;
  /** Monotonic instant of the change (the breaker's clock). */
  at: number;
}

export const CircuitBreakerOptionsSchema = Type.Object(
  {
    /**
     * When a closed circuit opens: `{ consecutive: n }` failures in a row (n in [1, 1e6]), or
     * `{ ratio, windowMs, minVolume, buckets }` over a rolling window, or a factory of your own policy.
     * @default { consecutive: 5 }
     */
    trip: Type.Optional(
      // Told apart by shape, so a bad one gets the errors of its own kind only.
      Type.Unsafe<Static<typeof ConsecutiveTripSchema> | FailureRatioOptions | (() => TripPolicy)>({
        if: { type: 'object', required: ['ratio'] },
        then: FailureRatioOptionsSchema,
        else: { if: { type: 'object' }, then: ConsecutiveTripSchema, else: { callable: true } },
        default: { consecutive: 5 },
      }),
    ),
    /** How long an open circuit refuses calls before it lets probes through, ms in [0, 2^31-1]. @default 30000 */
    openMs: Type.Optional(Ms({ zero: true, default: 30_000 })),
    /** Probes a half-open circuit lets through at once, in [1, 1000]. @default 1 */
    halfOpenProbes: Type.Optional(Int(1, 1000, { default: 1 })),
    /** Successful probes that close a half-open circuit, in [1, 1000]. @default 1 */
    closeAfter: Type.Optional(Int(1, 1000, { default: 1 })),
    /** Which errors count as failures. @default isRetryable: a 4xx or a policy denial never trips it */
    isFailure: Type.Optional(Fn<(error: unknown) => boolean>()),
    /** Which circuit a call belongs to. @default the service name */
    key: Type.Optional(Fn<(inv: Invocation) => string>()),
    /** @default the monotonic `now` */
    clock: Type.Optional(Fn<() => number>()),
    /** Told of every state change (also available with `on('stateChange', fn)`). */
    onStateChange: Type.Optional(Fn<(change: StateChange) => void>()),
  },
  { additionalProperties: false },
);
export type CircuitBreakerOptions = Static<typeof CircuitBreakerOptionsSchema>;
export const resolveCircuitBreakerOptions = optionsResolver<typeof CircuitBreakerOptionsSchema, WithDefaults<CircuitBreakerOptions, 'trip' | 'openMs' | 'halfOpenProbes' | 'closeAfter'>>(CircuitBreakerOptionsSchema, 'circuit breaker options');

// ---- hooks ----

/** A hook's own time limit, ms in (0, 2^31-1]. */
export const HookTimeoutSchema = Ms({ max: MAX_TIMER_MS });

export const HookRegistryOptionsSchema = Type.Object(
  {
    /** Per-hook time limit when `register` names none, ms in (0, 2^31-1]. @default 1000 */
    defaultTimeoutMs: Type.Optional(Ms({ default: 1000 })),
    /** Told of every hook that throws, rejects or times out; the call itself never is. */
    onError: Type.Optional(Fn<(error: HookError, type: string) => void>()),
  },
  { additionalProperties: false },
);
export type HookRegistryOptions = Static<typeof HookRegistryOptionsSchema>;
export const resolveHookRegistryOptions = optionsResolver<typeof HookRegistryOptionsSchema, WithDefaults<HookRegistryOptions, 'defaultTimeoutMs'>>(HookRegistryOptionsSchema, 'hook registry options');

export const HookOptionsSchema = Type.Object(
  {
    /** How long this hook may run before it is abandoned, ms in (0, 2^31-1]. @default the registry's `defaultTimeoutMs` */
    timeout: Type.Optional(HookTimeoutSchema),
  },
  { additionalProperties: false },
);
export type HookOptions = Static<typeof HookOptionsSchema>;
export const resolveHookOptions = optionsResolver<typeof HookOptionsSchema>(HookOptionsSchema, 'hook options');

export const HooksOptionsSchema = Type.Object(
  {
    /** Applied to every event field but `chunk`; `false` hands hooks the raw values. @default the built-in redactor */
    redact: Type.Optional(Type.Unsafe<Redactor | false>({ anyOf: [{ callable: true }, { const: false }] })),
  },
  { additionalProperties: false },
);
export type HooksOptions = Static<typeof HooksOptionsSchema>;
export const resolveHooksOptions = optionsResolver<typeof HooksOptionsSchema>(HooksOptionsSchema, 'hooks options');

// ---- metrics ----

export const MetricsOptionsSchema = Type.Object(
  {
    /** Prefix of every metric name (Prometheus name characters, at most 128). @default 'callpool_' */
    prefix: Type.Optional(Type.String({ pattern: '^([a-zA-Z_:][a-zA-Z0-9_:]*)?$', maxLength: 128, default: 'callpool_' })),
    /** Latency histogram bucket bounds, in seconds: 1 to 64 numbers in (0, 86400], ascending. @default 1 ms … 60 s */
    buckets: Type.Optional(
      Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }), {
        minItems: 1,
        maxItems: 64,
        default: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      }),
    ),
    /** Bytes of one stream chunk. @default UTF-8 length of strings, `byteLength` of binary, JSON length of anything else */
    sizeOf: Type.Optional(Fn<(chunk: unknown) => number>()),
    /** Applied to label values (service names). @default the built-in redactor */
    redact: Type.Optional(Fn<Redactor>()),
  },
  { additionalProperties: false },
);
export type MetricsOptions = Static<typeof MetricsOptionsSchema>;
export const resolveMetricsOptions = optionsResolver<typeof MetricsOptionsSchema, WithDefaults<MetricsOptions, 'prefix' | 'buckets'>>(MetricsOptionsSchema, 'metrics options');

// ---- policy gate, redaction ----

export const PolicyGateOptionsSchema = Type.Object(
  {
    /** What the caller is granted. @default the context's `capabilities` */
    granted: Type.Optional(Fn<(inv: Invocation) => readonly string[]>()),
    /**
     * Requirements a request adds (never removes) on top of the service's `requires` and `rights`.
     * @default the string array under `ctx.attrs.requires`, if any
     */
    extra: Type.Optional(Fn<(inv: Invocation) => readonly string[] | undefined>()),
  },
  { additionalProperties: false },
);
export type PolicyGateOptions = Static<typeof PolicyGateOptionsSchema>;
export const resolvePolicyGateOptions = optionsResolver<typeof PolicyGateOptionsSchema>(PolicyGateOptionsSchema, 'policy gate options');

export const resolveRedactionOptions = optionsResolver<typeof RedactorOptionsSchema, RedactorOptions>(RedactorOptionsSchema, 'redaction options');
