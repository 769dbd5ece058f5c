import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Int, MAX_WINDOW_MS, Ms } from './bounds.js';

/**
 * `T | null` as one JSON-schema type list rather than an `anyOf`: AJV checks it in one step,
 * where an `anyOf` (with `allErrors`) tries every branch.
 */
function nullable<S extends TSchema>(schema: S) {
  const type = (schema as { type?: string }).type;
  return Type.Unsafe<Static<S> | null>({ ...schema, type: [type, 'null'] });
}

/** A union of string literals as one `enum` (same reason as `nullable`). */
function oneOf<const L extends readonly string[]>(values: L) {
  return Type.Unsafe<L[number]>({ type: 'string', enum: [...values] });
}

/**
 * The library's structures, each written once: TypeBox gives the static type and the JSON
 * schema that AJV compiles (see validate.ts). zod equivalents live only in the benchmarks.
 */

export const CallContextOptionsSchema = Type.Object(
  {
    /** Absolute deadline on the performance.now() clock; finite (NaN and ±Infinity are refused). */
    deadlineMs: Type.Optional(Type.Number({ description: 'absolute deadline on the performance.now() clock' })),
    /** Deadline relative to now, ms; finite and > 0. A far one costs one idle timer. */
    timeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    capabilities: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    attrs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    callId: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type CallContextOptions = Static<typeof CallContextOptionsSchema>;

/** A CallContext as it crosses a thread or a wire: the deadline is absolute wall-clock time. */
export const CallContextDataSchema = Type.Object(
  {
    callId: Type.String({ minLength: 1 }),
    branchId: Type.String(),
    deadlineEpochMs: nullable(Type.Number()),
    capabilities: Type.Array(Type.String()),
    attrs: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type CallContextData = Static<typeof CallContextDataSchema>;

export const CallStatusSchema = oneOf(['PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const);

/**
 * A ServiceCall's observable state (what `stats().history` and reports hold). Written by
 * callpool itself (ids are UUIDs, names were checked by defineService), so strings carry no
 * length rule (AJV's unicode-aware length check doubles the cost of a check), and fields
 * added by a later version are allowed through (a reader of old reports keeps working).
 */
export const ServiceCallDataSchema = Type.Object(
  {
    id: Type.String(),
    service: Type.String(),
    branchId: Type.String(),
    status: CallStatusSchema,
    createdAt: Type.Number(),
    queuedAt: nullable(Type.Number()),
    startedAt: nullable(Type.Number()),
    endedAt: nullable(Type.Number()),
    tokens: Type.Number({ minimum: 0 }),
    error: nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  },
);
export type ServiceCallData = Static<typeof ServiceCallDataSchema>;

/** One rate window: at most `limit` requests (or tokens) in any `windowMs`. */
export const RateWindowSchema = Type.Object(
  {
    /** Requests (or tokens) per window; a whole number in [1, 1e9]. */
    limit: Int(1, 1_000_000_000),
    /** The window's length in ms, in [1, 86400000] (1 ms to one day). */
    windowMs: Type.Number({ minimum: 1, maximum: MAX_WINDOW_MS }),
  },
  { additionalProperties: false },
);
export type RateWindow = Static<typeof RateWindowSchema>;

const windows = Type.Union([RateWindowSchema, Type.Array(RateWindowSchema, { minItems: 1, maxItems: 16 })]);

/** A `redis://` or `rediss://` URL that parses (ioredis would refuse it later, uncoded). */
export const RedisUrlSchema = Type.String({ minLength: 1, format: 'redis-url' });

/** The limiter store and limits schemas, with the store URL's own schema (the soak fixtures also take `'spawn'`). */
export function limitsSchemaWith(url: TSchema) {
  const redis = Type.Object(
    {
      kind: Type.Literal('redis'),
      url: Type.Unsafe<string>(url),
      /** Prefix of every key callpool writes. @default 'callpool:' */
      prefix: Type.Optional(Type.String({ maxLength: 256 })),
      key: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      /** What admissions do while the store cannot be reached. @default 'fail-closed' */
      onUnavailable: Type.Optional(Type.Union([Type.Literal('fail-closed'), Type.Literal('fail-open')])),
      /** How long one store command may take before the store counts as unavailable, ms in (0, 60000]. @default 500 */
      commandTimeoutMs: Type.Optional(Ms({ max: 60_000 })),
    },
    { additionalProperties: false },
  );
  const store = Type.Union([Type.Object({ kind: Type.Literal('memory') }, { additionalProperties: false }), redis]);
  const limits = Type.Object(
    {
      requests: Type.Optional(windows),
      tokens: Type.Optional(windows),
      /** @default { kind: 'memory' } */
      store: Type.Optional(store),
    },
    { additionalProperties: false },
  );
  return { redis, store, limits };
}

const limitsSchemas = limitsSchemaWith(RedisUrlSchema);
export const LimiterStoreSchema = limitsSchemas.store;
/** The Redis store's options (`kind: 'redis'` and its URL, prefix, key, fail mode and timeout). */
export const RedisStoreSchema = limitsSchemas.redis;
export type LimiterStore = Static<typeof LimiterStoreSchema>;
export const LimitsSchema = limitsSchemas.limits;
export type LimitsConfig = Static<typeof LimitsSchema>;

export const PoolConfigSchema = Type.Object(
  {
    kind: oneOf(['piscina', 'tinypool', 'inline'] as const),
    /** Worker threads, in [1, 256]. @default os.availableParallelism() */
    threads: Type.Optional(Int(1, 256)),
    /** Chunks a stream's producer may have in flight before it waits for credit, in [1, 65536]. @default 64 */
    streamCredit: Type.Optional(Int(1, 65_536, { default: 64 })),
    /** How long (ms, [0, 600000]) a handler that ignores its abort signal may run before its worker is terminated. @default 1000 */
    abortGraceMs: Type.Optional(Ms({ zero: true, max: 600_000, default: 1000 })),
    /** How long (µs, [0, 10000]) a worker that ran out of work polls for the next call before it sleeps; 0: never. @default 50 */
    idleSpinUs: Type.Optional(Int(0, 10_000, { default: 50 })),
    /** Extra `execArgv` for worker threads (e.g. `['--import', 'tsx']` for TypeScript handlers). */
    execArgv: Type.Optional(Type.Array(Type.String(), { maxItems: 64 })),
    /** Heap limit per worker in MB, in [16, 65536] (worker `resourceLimits.maxOldGenerationSizeMb`). @default Node's */
    maxHeapMb: Type.Optional(Int(16, 65_536)),
  },
  { additionalProperties: false },
);
export type PoolConfig = Static<typeof PoolConfigSchema>;

/**
 * A pool object (the `Pool` contract of src/pool/types.ts) given instead of a configuration.
 * Only its shape is checked here: functions `run`, `stream` and `close`.
 */
export interface PoolObject {
  readonly kind: string;
  run(...args: never[]): unknown;
  stream(...args: never[]): AsyncIterable<unknown>;
  close(): Promise<void>;
}

/** A limiter object (the `Limiter` contract of src/limits/types.ts): functions `acquire`, `reconcile`, `close`. */
export interface LimiterObject {
  acquire(...args: never[]): unknown;
  reconcile(...args: never[]): unknown;
  close(): unknown;
}

/** An object with the given function members (no other rule: it is the user's own object). */
function duck(members: readonly string[]) {
  return {
    type: 'object',
    required: [...members],
    properties: Object.fromEntries(members.map((m) => [m, { callable: true }])),
  };
}

/** `then` schema when the value has `key`, `otherwise` when not: one branch's errors, never both. */
function either<A, B>(key: string, then: object, otherwise: TSchema, extra: object = {}) {
  return Type.Unsafe<A | B>({ if: { type: 'object', required: [key] }, then, else: otherwise, ...extra });
}

export const ExecutorConfigSchema = Type.Object(
  {
    /** Calls waiting for admission, in [1, 1000000]; a full queue refuses new calls at once. @default 1000 */
    queueCapacity: Type.Optional(Int(1, 1_000_000, { default: 1000 })),
    /** Calls and streams running at once, in [1, 10000]. @default 20 */
    concurrency: Type.Optional(Int(1, 10_000, { default: 20 })),
    /** Request and token rate limits, one window or several (or a `Limiter` object). @default none */
    limits: Type.Optional(either<LimitsConfig, LimiterObject>('acquire', duck(['acquire', 'reconcile', 'close']), LimitsSchema)),
    /** Where handlers run (a configuration or a `Pool` object). @default { kind: 'piscina' } */
    pool: Type.Optional(either<PoolConfig, PoolObject>('run', duck(['run', 'stream', 'close']), PoolConfigSchema, { default: { kind: 'piscina' } })),
    /** Middleware, outermost first (at most 64). @default [] */
    middleware: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 64, default: [] })),
    /** Settled calls kept for `stats().history`, in [0, 10000] (each `stats()` copies them). @default 100 */
    historySize: Type.Optional(Int(0, 10_000, { default: 100 })),
    /** Check requests against the service's `requestSchema` before queueing. @default true */
    validateRequests: Type.Optional(Type.Boolean({ default: true })),
    /**
     * A guard band on every window of the limiter (configured or learned from the provider), so
     * that the limit holds where the provider stamps arrivals, which trail our send stamps by a
     * varying delay. `'auto'`: the measured p99 of the dispatch jitter (admission to send, plus
     * report delay; see `stats().dispatch`). A number: that many ms, in [0, 60000] (the spread of
     * the provider's stamps you allow for). Needs a limiter with `widen`. @default none
     */
    guard: Type.Optional(Type.Union([Type.Literal('auto'), Type.Number({ minimum: 0, maximum: 60_000 })])),
  },
  { additionalProperties: false },
);
export type ExecutorConfigData = Static<typeof ExecutorConfigSchema>;
