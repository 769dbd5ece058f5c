import { Type, type Static, type TSchema } from '@sinclair/typebox';

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
    deadlineMs: Type.Optional(Type.Number({ description: 'absolute deadline on the performance.now() clock' })),
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

export const RateWindowSchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1 }),
    windowMs: Type.Number({ exclusiveMinimum: 0 }),
  },
  { additionalProperties: false },
);
export type RateWindow = Static<typeof RateWindowSchema>;

const windows = Type.Union([RateWindowSchema, Type.Array(RateWindowSchema, { minItems: 1 })]);

export const LimiterStoreSchema = Type.Union([
  Type.Object({ kind: Type.Literal('memory') }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('redis'),
      url: Type.String({ minLength: 1 }),
      prefix: Type.Optional(Type.String()),
      key: Type.Optional(Type.String({ minLength: 1 })),
      onUnavailable: Type.Optional(Type.Union([Type.Literal('fail-closed'), Type.Literal('fail-open')])),
      commandTimeoutMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    },
    { additionalProperties: false },
  ),
]);
export type LimiterStore = Static<typeof LimiterStoreSchema>;

export const LimitsSchema = Type.Object(
  {
    requests: Type.Optional(windows),
    tokens: Type.Optional(windows),
    store: Type.Optional(LimiterStoreSchema),
  },
  { additionalProperties: false },
);
export type LimitsConfig = Static<typeof LimitsSchema>;

export const PoolConfigSchema = Type.Object(
  {
    kind: oneOf(['piscina', 'tinypool', 'inline'] as const),
    threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    /** Chunks a stream's producer may have in flight before it waits for credit. */
    streamCredit: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536 })),
    /** How long a handler that ignores its abort signal may run before its worker is terminated. */
    abortGraceMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** How long (µs) a worker that ran out of work polls for the next call before it sleeps; 0: never. */
    idleSpinUs: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    /** Extra `execArgv` for worker threads (e.g. `['--import', 'tsx']` for TypeScript handlers). */
    execArgv: Type.Optional(Type.Array(Type.String())),
    /** Heap limit per worker in MB (worker `resourceLimits.maxOldGenerationSizeMb`). */
    maxHeapMb: Type.Optional(Type.Integer({ minimum: 16 })),
  },
  { additionalProperties: false },
);
export type PoolConfig = Static<typeof PoolConfigSchema>;

export const ExecutorConfigSchema = Type.Object(
  {
    queueCapacity: Type.Optional(Type.Integer({ minimum: 1 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
    limits: Type.Optional(LimitsSchema),
    pool: Type.Optional(PoolConfigSchema),
    middleware: Type.Optional(Type.Array(Type.Unknown())),
    historySize: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Validate requests against the service's schema before queueing. */
    validateRequests: Type.Optional(Type.Boolean()),
    guard: Type.Optional(Type.Literal('auto')),
  },
  { additionalProperties: false },
);
export type ExecutorConfigData = Static<typeof ExecutorConfigSchema>;
