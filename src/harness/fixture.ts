import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, type Issue } from '../core/errors.js';
import { MAX_TIMER_MS, Ms } from '../core/bounds.js';
import { ExecutorConfigSchema, limitsSchemaWith, PoolConfigSchema } from '../core/schemas.js';
import { compile } from '../core/validate.js';
import { MockUpstreamOptionsSchema } from './mock-options.js';

/** A soak runs at most a week; every count and rate below has a ceiling that still means something. */
const WEEK_S = 604_800;
const Seconds = Type.Number({ exclusiveMinimum: 0, maximum: WEEK_S });
const StartS = Type.Number({ minimum: 0, maximum: WEEK_S });
const PerSecond = Type.Number({ minimum: 0, maximum: 1_000_000 });
const Weight = Type.Number({ minimum: 0, maximum: 1_000_000 });
/** Measured bounds a run is judged against (ms, per second, MB): finite. */
const Bound = Type.Number({ minimum: 0, maximum: 1e12 });
const Share = Type.Number({ minimum: 0, maximum: 1 });
const execProps = ExecutorConfigSchema.properties;

/** Middleware by name, outermost first, each with the options a JSON file can express. */
export const MiddlewareSpecSchema = Type.Union([
  Type.Object({ name: Type.Literal('redaction') }, { additionalProperties: false }),
  Type.Object({ name: Type.Literal('metrics') }, { additionalProperties: false }),
  Type.Object({ name: Type.Literal('policyGate') }, { additionalProperties: false }),
  /** A hook registry with a PRE_CALL and a POST_CALL hook that only count, to put hooks on the path. */
  Type.Object({ name: Type.Literal('hooks') }, { additionalProperties: false }),
  Type.Object(
    {
      name: Type.Literal('circuitBreaker'),
      consecutive: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
      openMs: Type.Optional(Ms({ max: MAX_TIMER_MS })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      name: Type.Literal('retry'),
      maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
      baseDelayMs: Type.Optional(Ms({ zero: true })),
      maxDelayMs: Type.Optional(Ms({ zero: true })),
    },
    { additionalProperties: false },
  ),
  Type.Object({ name: Type.Literal('timeout'), ms: Ms() }, { additionalProperties: false }),
]);
export type MiddlewareSpec = Static<typeof MiddlewareSpecSchema>;

/** A fixture's store URL may be `'spawn'`: the soak starts a redis-server for the run. */
const FixtureLimitsSchema = limitsSchemaWith(Type.String({ pattern: '^(spawn$|rediss?://)' })).limits;

export const FixtureExecutorSchema = Type.Object(
  {
    queueCapacity: execProps.queueCapacity,
    concurrency: execProps.concurrency,
    limits: Type.Optional(FixtureLimitsSchema),
    pool: Type.Optional(PoolConfigSchema),
    middleware: Type.Optional(Type.Array(MiddlewareSpecSchema)),
    guard: execProps.guard,
  },
  { additionalProperties: false },
);

export const LoadSchema = Type.Object(
  {
    /** Length of the run in seconds (the load stops offering calls then; in-flight ones finish). */
    durationS: Type.Optional(Seconds),
    /** Stop after offering this many calls (whichever of `durationS` and `calls` comes first). */
    calls: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
    /** Calls offered per second, open loop, in [0, 1e6]: the schedule does not wait for answers. */
    rate: PerSecond,
    /** `uniform`: evenly spaced; `poisson`: exponential gaps (seeded). @default 'uniform' */
    arrivals: Type.Optional(Type.Union([Type.Literal('uniform'), Type.Literal('poisson')])),
    /** The rate moves linearly from `rate` to `toRate` over `overS` seconds from `startS`, then stays. */
    ramp: Type.Optional(
      Type.Object({ toRate: PerSecond, overS: Seconds, startS: Type.Optional(StartS) }, { additionalProperties: false }),
    ),
    /** `calls` extra calls offered at once every `everyS` seconds, the first at `startS`. */
    bursts: Type.Optional(
      Type.Object(
        { everyS: Seconds, calls: Type.Integer({ minimum: 1, maximum: 1_000_000 }), startS: Type.Optional(StartS) },
        { additionalProperties: false },
      ),
    ),
    /** Relative weights of the kinds of work offered. @default { call: 1 } */
    mix: Type.Optional(
      Type.Object(
        { call: Type.Optional(Weight), stream: Type.Optional(Weight), embeddings: Type.Optional(Weight) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    /** Each call's deadline from submit (ms); none when absent. */
    timeoutMs: Type.Optional(Ms()),
    /** A slow consumer: wait this long (ms, at most a minute) after every stream chunk before asking for the next. @default 0 */
    consumerDelayMs: Type.Optional(Ms({ zero: true, max: 60_000 })),
    /** Characters of prompt text per request. @default 64 */
    promptChars: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** `max_tokens` of each chat request (the completion budget the token limiter charges). @default 64 */
    maxTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    /** Model name sent upstream. @default 'mock-model' */
    model: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type LoadSpec = Static<typeof LoadSchema>;

export const ExpectationsSchema = Type.Object(
  {
    /** p99 of the time a call waited in the queue (ms), at most. */
    queueWaitP99Ms: Type.Optional(Bound),
    /** p99 of the time a call ran once admitted (ms), at most. */
    runTimeP99Ms: Type.Optional(Bound),
    /** p99 of the time from submitting a stream to its first chunk (ms), at most. */
    ttfbP99Ms: Type.Optional(Bound),
    /** Stream chunks delivered per second over the run, at least. */
    chunksPerSecMin: Type.Optional(Bound),
    /** Completed calls per second over the run, at least. */
    throughputMin: Type.Optional(Bound),
    /** Share of offered calls that did not complete (refused, failed, cancelled), at most. */
    errorRateMax: Type.Optional(Share),
    /** Slope of heap-after-GC over the second half of the run (MB per minute), at most. */
    heapSlopeMbPerMinMax: Type.Optional(Type.Number()),
    /** Admissions above the request limit in any rolling window, as the upstream saw them, at most. */
    rateOvershootMax: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Share of the request limit used while calls waited for it, at least. */
    rateUtilisationMin: Type.Optional(Share),
  },
  { additionalProperties: false },
);
export type Expectations = Static<typeof ExpectationsSchema>;

export const MeasureSchema = Type.Object(
  {
    /** Interval of memory samples (heap after a full GC, RSS). @default 500 */
    memoryEveryMs: Type.Optional(Type.Number({ minimum: 50, maximum: 3_600_000 })),
    /**
     * How much shorter than the limit's window the judged windows are. 0 judges as the provider
     * counts (every shipped fixture says 0); more forgives dispatch jitter (a stalled event loop,
     * thread hops). The report shows the jitter figures either way.
     * @default the longest event-loop stall of the run plus the monitor's 10 ms resolution (at least 10 ms, at most half the window)
     */
    rateToleranceMs: Type.Optional(Bound),
    /** How long in-flight work may take to finish after the load stops (ms). @default 30000 */
    drainTimeoutMs: Type.Optional(Ms()),
  },
  { additionalProperties: false },
);

export const FixtureSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    /** Seeds the load (arrivals, mix) and the mock upstream. @default 1 */
    seed: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 4_294_967_295 })),
    /**
     * OS processes that share the load, each with its own executor, against one upstream and one
     * limiter store (give several processes a shared store: `{ kind: 'redis', url }`). @default 1
     */
    processes: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    upstream: Type.Optional(MockUpstreamOptionsSchema),
    executor: Type.Optional(FixtureExecutorSchema),
    load: LoadSchema,
    expectations: Type.Optional(ExpectationsSchema),
    measure: Type.Optional(MeasureSchema),
  },
  { additionalProperties: false },
);
export type Fixture = Static<typeof FixtureSchema>;

const checkFixture = compile(FixtureSchema, { lazy: true });

/**
 * Checks a parsed fixture and throws one `ConfigError` listing every problem (path and rule).
 * A union's alternatives each report their own mismatch, so one bad middleware entry yields
 * several lines; the `anyOf` line names the entry.
 */
export function validateFixture(value: unknown, what = 'fixture'): Fixture {
  const issues: Issue[] = checkFixture(value) ? [] : checkFixture.issues();
  if (issues.length === 0) {
    const load = (value as Fixture).load;
    if (load.durationS === undefined && load.calls === undefined) {
      issues.push({ path: '/load', rule: 'required', message: 'needs `durationS` or `calls`' });
    }
    const mix = load.mix;
    if (mix !== undefined && (mix.call ?? 0) + (mix.stream ?? 0) + (mix.embeddings ?? 0) <= 0) {
      issues.push({ path: '/load/mix', rule: 'minimum', message: 'weights must add up to more than 0' });
    }
  }
  if (issues.length > 0) throw new ConfigError(what, issues);
  return value as Fixture;
}

/** Reads and validates a fixture file; a missing file or broken JSON is a `ConfigError` too. */
export function loadFixture(path: string): Fixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`fixture ${path}`, [{ path: '/', rule: 'file', message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`fixture ${path}`, [{ path: '/', rule: 'json', message: (err as Error).message }]);
  }
  return validateFixture(value, `fixture ${path}`);
}
