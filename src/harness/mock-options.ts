import { Type, type Static } from '@sinclair/typebox';

const Rate = Type.Number({ minimum: 0, maximum: 1 });
/** A mock's delays: at most 10 minutes (a timer longer than 2^31-1 ms would fire at once). */
const Ms = Type.Number({ minimum: 0, maximum: 600_000 });
const PositiveMs = Type.Number({ exclusiveMinimum: 0, maximum: 600_000 });

/** Time before the response headers, sampled per request from a seeded generator. */
export const LatencySchema = Type.Union([
  Type.Object({ kind: Type.Literal('fixed'), ms: Ms }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('uniform'), minMs: Ms, maxMs: Ms }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('normal'), meanMs: Ms, stdMs: Ms }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('lognormal'), medianMs: PositiveMs, sigma: Type.Number({ minimum: 0, maximum: 10 }) }, { additionalProperties: false }),
]);
export type Latency = Static<typeof LatencySchema>;

export const RouteOptionsSchema = Type.Object(
  {
    /** @default { kind: 'fixed', ms: 0 } */
    latency: Type.Optional(LatencySchema),
    /** Each entry answers that share of requests with its status (a 429 carries retry-after). */
    errors: Type.Optional(
      Type.Array(
        Type.Object({ status: Type.Integer({ minimum: 400, maximum: 599 }), rate: Rate, retryAfterMs: Type.Optional(Ms) }, { additionalProperties: false }),
      ),
    ),
    /** Share of requests whose connection is destroyed without a response. */
    resetRate: Type.Optional(Rate),
    /** Share of 200 responses whose body is not JSON (or, streamed, whose chunk is not). */
    malformedRate: Type.Optional(Rate),
    /** Share of 200 responses that are JSON of the wrong shape. */
    wrongShapeRate: Type.Optional(Rate),
    /** A 429 storm: every request for `durationMs` once `startAfter` requests were served, optionally again every `repeatEveryMs`. */
    throttle: Type.Optional(
      Type.Object(
        {
          startAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
          durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 86_400_000 }),
          repeatEveryMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400_000 })),
          /** How the wait is announced: `retry-after` seconds (rounded up), `retry-after-ms`, an HTTP-date, or not at all. @default 'ms' */
          header: Type.Optional(Type.Union([Type.Literal('seconds'), Type.Literal('ms'), Type.Literal('http-date'), Type.Literal('none')])),
        },
        { additionalProperties: false },
      ),
    ),
    /** Provider-style limits announced in `x-ratelimit-*` headers (fixed windows); `enforce` answers 429 past them. */
    rateLimit: Type.Optional(
      Type.Object(
        {
          requests: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
          tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
          windowMs: Type.Number({ minimum: 1, maximum: 86_400_000 }),
          enforce: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    /** Size of the generated content (message text, embedding numbers, JSON `data`), e.g. 4096, 65536, 1048576. @default 32 */
    responseBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 * 1024 * 1024 })),
    /** Embedding vector length when `responseBytes` is not given. @default 16 */
    dimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536 })),
    stream: Type.Optional(
      Type.Object(
        {
          /** Content chunks per stream (plus a role chunk, a final chunk and, when asked, a usage chunk). @default 8 */
          chunks: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
          /** Characters per content chunk; `responseBytes` divided over the chunks when set. @default 16 */
          chunkBytes: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 * 1024 * 1024 })),
          /** Pause between chunks (a slow stream). @default 0 */
          intervalMs: Type.Optional(Ms),
          /** Stop writing after this many content chunks and keep the connection open (a silent stream). */
          silentAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
          /** Destroy the connection after this many content chunks. */
          resetAfter: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
          /** Write every event in two network writes, split mid-event. @default false */
          splitEvents: Type.Optional(Type.Boolean()),
          /** Send each chunk's JSON over two `data:` lines. @default false */
          multilineData: Type.Optional(Type.Boolean()),
          /** Send a `: keep-alive` comment before every event. @default false */
          comments: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RouteOptions = Static<typeof RouteOptionsSchema>;

/** `messages` is Anthropic's `/v1/messages`; the others are the OpenAI routes and `/json/*`. */
export const ROUTE_NAMES = ['chat', 'completions', 'embeddings', 'json', 'messages'] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

export const MockUpstreamOptionsSchema = Type.Object(
  {
    /** @default '127.0.0.1' */
    host: Type.Optional(Type.String({ minLength: 1 })),
    /** @default 0 (any free port) */
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    /** Seed of every random choice (latency, faults), so a run can be replayed. @default 1 */
    seed: Type.Optional(Type.Integer({ minimum: -2_147_483_648, maximum: 4_294_967_295 })),
    /** When set, requests must send `Authorization: Bearer <apiKey>` or get a 401. */
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    /** Arrivals kept in the log (a ring: older ones are overwritten; 9 bytes each). @default 1_048_576 */
    arrivalCapacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 1 << 26 })),
    /** How long an idle keep-alive connection is kept. @default 5000 */
    keepAliveTimeoutMs: Type.Optional(PositiveMs),
    /** Options every route starts from. */
    defaults: Type.Optional(RouteOptionsSchema),
    /** Per-route options, merged over `defaults` (one level deep). */
    routes: Type.Optional(
      Type.Object(
        {
          chat: Type.Optional(RouteOptionsSchema),
          completions: Type.Optional(RouteOptionsSchema),
          embeddings: Type.Optional(RouteOptionsSchema),
          json: Type.Optional(RouteOptionsSchema),
          messages: Type.Optional(RouteOptionsSchema),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MockUpstreamOptions = Static<typeof MockUpstreamOptionsSchema>;
