import fc from 'fast-check';
import test from 'ava';
import {
  AbortHandle,
  ArrivalLog,
  Executor,
  GrantSet,
  MemoryLimiter,
  Model,
  RedisLimiter,
  ServiceCall,
  SlidingWindow,
  anthropic,
  anthropicLimitsFromHeaders,
  compose,
  createPool,
  createRedactor,
  createTransport,
  derive,
  model,
  openaiCompatible,
  parseRetryAfter,
  providerLimitsFromHeaders,
  register,
  resolveModel,
  telemetry,
  type Invocation,
} from '../../src/index.js';
import { RUNS, options, runs, settleAsync, settleSync, weird, weirdNumber } from '../helpers/fuzz.js';

/**
 * Fuzz, continued: the public entry points beside the executor, the
 * middleware and the service factories: models and providers, transports, pools, limiters, the
 * header parsers, the redactor, grants, the arrival log, abort handles, composition and the
 * executor's listeners. Each ends in success or a documented CallpoolError, never an uncoded
 * throw, an exit or a runaway allocation.
 */

const fn = fc.constant(() => undefined);
const headers = fc.oneof(weird, fc.constant(new Headers({ 'retry-after': '2', 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': '1s' })));
/**
 * A pool configuration. Its thread count is absurd (refused) or 1 to 2, never a valid large one:
 * a valid configuration really starts its threads.
 */
const absurdOrFew = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, -0, 0.5, 257, 1e308, 2 ** 31, 2 ** 53 + 2, '2', null), fc.integer({ min: 1, max: 2 }));
const poolConfig = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        kind: fc.oneof(fc.constantFrom('inline', 'piscina', 'tinypool'), weird),
        threads: absurdOrFew,
        streamCredit: weirdNumber,
        abortGraceMs: weirdNumber,
        idleSpinUs: weirdNumber,
        maxHeapMb: weirdNumber,
        execArgv: fc.oneof(weird, fc.constant([])),
        unknownOption: weird,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: weird },
);
const windows = fc.oneof(weird, fc.array(fc.oneof(weird, options(['limit', 'windowMs'], { limit: weirdNumber, windowMs: weirdNumber })), { maxLength: 3 }));

const sync: [string, fc.Arbitrary<unknown[]>, (...a: never[]) => unknown][] = [
  ['model', fc.tuple(fc.oneof(weird, fc.constantFrom('openai/gpt-4o-mini', 'anthropic/claude-x', 'json/x', 'nope/x', 'openai/')), options(['baseURL', 'apiKey', 'limits', 'pool', 'middleware', 'timeoutMs', 'attemptTimeoutMs', 'headers', 'concurrency', 'queueCapacity', 'retry', 'telemetry'], { limits: options(['requests', 'tokens', 'store'], { requests: windows }), pool: options(['kind', 'threads'], { kind: fc.constant('inline'), threads: weirdNumber }) })), (id, o) => model(id as string, o as never)],
  ['resolveModel', fc.tuple(weird, weird), (id, url) => resolveModel(id, url)],
  ['register', fc.tuple(options(['name', 'service', 'defaultLimits', 'apiKeyEnv', 'baseURLEnv', 'defaultBaseURL'], { service: fn, defaultLimits: fn }), weird), (a, o) => register(a, o)],
  ['openaiCompatible', fc.tuple(options(['name', 'apiKeyEnv', 'baseURLEnv', 'defaultBaseURL', 'limits', 'host'], { name: fc.string(), limits: fn, host: fn })), (s) => openaiCompatible(s)],
  ['anthropic.messages', fc.tuple(options(['name', 'baseURL', 'apiKey', 'model', 'timeoutMs', 'idleTimeoutMs', 'headers', 'defaultMaxTokens', 'version'], { timeoutMs: weirdNumber, defaultMaxTokens: weirdNumber })), (o) => anthropic.messages(o)],
  ['telemetry', fc.tuple(options(['provider', 'model', 'tracerProvider', 'meterProvider', 'usage'], { provider: fc.oneof(fc.string(), fn), model: fc.string(), tracerProvider: fc.constant({ getTracer: () => ({}) }), usage: fn })), (o) => telemetry(o)],
  ['createTransport', fc.tuple(fc.oneof(weird, fc.constantFrom('undici', 'node-fetch')), options(['maxSockets', 'freeSocketTimeoutMs', 'pipelining'], { maxSockets: weirdNumber, freeSocketTimeoutMs: weirdNumber, pipelining: weirdNumber })), (k, o) => createTransport(k, o)],
  ['new MemoryLimiter', fc.tuple(windows, windows, fc.oneof(weird, fn)), (r, t, c) => new MemoryLimiter(r, t, c)],
  ['new SlidingWindow', fc.tuple(weirdNumber, weirdNumber, fc.oneof(weird, weirdNumber)), (l, w, c) => new SlidingWindow(l, w, c)],
  ['parseRetryAfter', fc.tuple(headers, fc.oneof(weird, weirdNumber)), (h, n) => parseRetryAfter(h, n)],
  ['providerLimitsFromHeaders', fc.tuple(headers, fc.oneof(weird, weirdNumber)), (h, n) => providerLimitsFromHeaders(h, n)],
  ['anthropicLimitsFromHeaders', fc.tuple(headers, fc.oneof(weird, weirdNumber)), (h, n) => anthropicLimitsFromHeaders(h, n)],
  ['createRedactor', fc.tuple(options(['keys', 'secrets', 'patterns'], { keys: fc.array(fc.string(), { maxLength: 3 }), patterns: fc.constant([/x/g]) })), (o) => createRedactor(o)],
  ['new GrantSet', fc.tuple(fc.oneof(weird, fc.array(fc.oneof(weird, fc.constantFrom('net.out:*', 'fs.read')), { maxLength: 4 }))), (g) => new GrantSet(g)],
  ['new ArrivalLog', fc.tuple(fc.oneof(weird, weirdNumber)), (c) => new ArrivalLog(c)],
  ['AbortHandle.from', fc.tuple(fc.oneof(weird, fc.constant(null).map(() => new AbortController().signal))), (s) => AbortHandle.from(s)],
  ['new ServiceCall', fc.tuple(weird, weird, weird, weird), (s, c, t, at) => new ServiceCall(s, c, t, at)],
  ['derive', fc.tuple(weird, weird), (inv, changes) => derive(inv as Invocation, changes)],
  ['compose', fc.tuple(fc.oneof(weird, fc.array(weird, { maxLength: 3 })), fc.oneof(weird, fc.constant({ call: async () => 1, stream: async function* () {} }))), (m, t) => compose(m, t)],
  ['Model.fromJSON', fc.tuple(weird), (d) => Model.fromJSON(d)],
];

for (const [name, arb, f] of sync) {
  test(`${name}(any arguments): success or a documented code`, (t) => {
    t.notThrows(() =>
      fc.assert(
        fc.property(arb, (args) => {
          const made = settleSync(() => (f as (...a: unknown[]) => unknown)(...args));
          // A made model owns an executor only once it is used; close what exists.
          if (made instanceof Model) void made.close();
        }),
        RUNS,
      ),
    );
  });
}

test('createPool(any configuration): success (then closes) or a documented code, never threads for an absurd count', async (t) => {
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(poolConfig, async (c) => {
        const pool = settleSync(() => createPool(c as never));
        if (pool !== undefined) await settleAsync(pool.close());
      }),
      runs(60),
    ),
  );
});

test('new RedisLimiter(any windows and options): success (then closes) or a documented code', async (t) => {
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(windows, windows, options(['url', 'prefix', 'key', 'onUnavailable', 'commandTimeoutMs', 'pendingLeaseMs'], { url: fc.constantFrom('redis://127.0.0.1:9', 'http://x', 'redis://'), commandTimeoutMs: weirdNumber, pendingLeaseMs: weirdNumber }), async (r, tk, o) => {
        const limiter = settleSync(() => new RedisLimiter(r as never, tk as never, o as never));
        if (limiter !== undefined) await settleAsync(Promise.resolve(limiter.close()));
      }),
      runs(60),
    ),
  );
});

test('executor.on / off / ready with any arguments: success or a documented code, and the executor still runs calls', async (t) => {
  const ex = new Executor({ pool: { kind: 'inline' } });
  t.teardown(() => ex.close());
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.oneof(weird, fc.constantFrom('settled', 'admitted', 'queueFull', 'rateLimited', 'nope')), fc.oneof(weird, fn), (event, listener) => {
        settleSync(() => ex.on(event as never, listener as never));
        settleSync(() => ex.off(event as never, listener as never));
      }),
      RUNS,
    ),
  );
  await t.notThrowsAsync(fc.assert(fc.asyncProperty(weird, async (services) => void (await settleAsync(Promise.resolve().then(() => ex.ready(services as never))))), RUNS));
  const { CallContext, defineService } = await import('../../src/index.js');
  t.is(await ex.call(defineService({ name: 'one', handler: { call: () => 1 } }), null, CallContext.new('b')), 1);
});
