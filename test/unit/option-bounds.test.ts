import test from 'ava';
import { ConfigError, Executor, anthropic, circuitBreaker, metrics, openai, retry, timeout, HookRegistry, jsonService } from '../../src/index.js';
import { validateFixture } from '../../src/harness/fixture.js';
import { ExecutorConfigSchema, PoolConfigSchema, RateWindowSchema } from '../../src/core/schemas.js';
import { RetryOptionsSchema } from '../../src/middleware/options.js';
import { withDefaults } from '../../src/core/validate.js';

/** Every numeric option has a finite range that means something. */

const inline = { kind: 'inline' } as const;

test('absurd executor numbers are E_CONFIG naming the field', (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ queueCapacity: Infinity }, /\/queueCapacity/],
    [{ queueCapacity: 1e7 }, /\/queueCapacity/],
    [{ concurrency: Infinity }, /\/concurrency/],
    [{ concurrency: 1e308 }, /\/concurrency/],
    [{ historySize: 1e8 }, /\/historySize/],
    [{ limits: { requests: { limit: Infinity, windowMs: 1000 } } }, /\/limits\/requests/],
    [{ limits: { requests: { limit: 10, windowMs: Infinity } } }, /\/limits\/requests/],
    [{ limits: { requests: { limit: 10, windowMs: 1e-9 } } }, /\/limits\/requests/],
    [{ limits: { tokens: { limit: 2e9, windowMs: 1000 } } }, /\/limits\/tokens/],
    [{ pool: { kind: 'piscina', abortGraceMs: 1e12 } }, /\/pool\/abortGraceMs/],
    [{ pool: { kind: 'piscina', maxHeapMb: 1e9 } }, /\/pool\/maxHeapMb/],
    [{ pool: { kind: 'piscina', threads: 1e4 } }, /\/pool\/threads/],
  ];
  for (const [config, path] of cases) {
    const err = t.throws(() => new Executor({ pool: inline, ...config } as never), { instanceOf: ConfigError }, JSON.stringify(config));
    t.regex(err!.message, path);
  }
});

test('the schema is the one source of defaults: resolved config and documented defaults agree', (t) => {
  t.like(withDefaults(ExecutorConfigSchema, {}), { queueCapacity: 1000, concurrency: 20, historySize: 100, validateRequests: true, pool: { kind: 'piscina', streamCredit: 64, abortGraceMs: 1000, idleSpinUs: 50 }, middleware: [] });
  // Filling defaults never writes into the caller's objects.
  const pool = { kind: 'inline' as const };
  const resolved = withDefaults(ExecutorConfigSchema, { pool }) as { pool: Record<string, unknown> };
  t.deepEqual(pool, { kind: 'inline' });
  t.is(resolved.pool['streamCredit'], 64);
  // A Pool object is kept as is (the same object), not copied.
  const obj = { kind: 'mine', run: () => 1, stream: async function* () {}, close: async () => {} };
  t.is((withDefaults(ExecutorConfigSchema, { pool: obj }) as { pool: unknown }).pool, obj);
  t.like(withDefaults(RetryOptionsSchema, {}), { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 10_000, factor: 2 });
  for (const schema of [PoolConfigSchema.properties.threads, RateWindowSchema.properties.limit, RateWindowSchema.properties.windowMs]) {
    t.true(Number.isFinite(schema.maximum), 'every numeric option has a finite maximum');
  }
});

test('ExecutorConfig.pool and .limits take a Pool / Limiter object, checked by shape', (t) => {
  t.throws(() => new Executor({ pool: { run: () => 1 } } as never), { code: 'E_CONFIG', message: /\/pool\/(stream|close)/ });
  t.throws(() => new Executor({ pool: inline, limits: { acquire: () => 1, reconcile: 5 } } as never), { code: 'E_CONFIG', message: /\/limits\/reconcile/ });
});

test('middleware and service numbers out of range are E_CONFIG', (t) => {
  t.throws(() => retry({ maxAttempts: 1e9 }), { code: 'E_CONFIG', message: /maxAttempts/ });
  t.throws(() => retry({ maxDelayMs: 3e9 }), { code: 'E_CONFIG', message: /maxDelayMs/ });
  t.throws(() => timeout(Infinity), { code: 'E_CONFIG', message: /ms/ });
  t.throws(() => timeout(3e9), { code: 'E_CONFIG', message: /ms/ });
  t.throws(() => circuitBreaker({ openMs: Infinity }), { code: 'E_CONFIG', message: /openMs/ });
  t.throws(() => circuitBreaker({ trip: { ratio: 0.5, windowMs: 1e12 } }), { code: 'E_CONFIG', message: /windowMs/ });
  t.throws(() => new HookRegistry({ defaultTimeoutMs: 1e10 }), { code: 'E_CONFIG', message: /defaultTimeoutMs/ });
  t.throws(() => new HookRegistry().register('PRE_CALL' as never, () => {}, { timeout: NaN }), { code: 'E_CONFIG', message: /timeout/ });
  t.throws(() => metrics({ buckets: [NaN] }), { code: 'E_CONFIG', message: /buckets/ });
  t.throws(() => metrics({ prefix: 'no spaces' }), { code: 'E_CONFIG', message: /prefix/ });
  t.throws(() => openai.chat({ timeoutMs: Infinity }), { code: 'E_CONFIG', message: /timeoutMs/ });
  t.throws(() => openai.chat({ defaultMaxTokens: 1e12 }), { code: 'E_CONFIG', message: /defaultMaxTokens/ });
  // anthropic.messages shares these options' bounds with openai.*.
  t.throws(() => anthropic.messages({ timeoutMs: 3e9 }), { code: 'E_CONFIG', message: /timeoutMs/ });
  t.throws(() => anthropic.messages({ idleTimeoutMs: Infinity }), { code: 'E_CONFIG', message: /idleTimeoutMs/ });
  t.throws(() => anthropic.messages({ baseURL: 'http://exa mple' }), { code: 'E_CONFIG', message: /baseURL/ });
  t.throws(() => anthropic.messages({ defaultMaxTokens: 1e12 }), { code: 'E_CONFIG', message: /defaultMaxTokens/ });
  t.throws(() => jsonService({ baseURL: 'http://x', timeoutMs: 1e300 }), { code: 'E_CONFIG', message: /timeoutMs/ });
  t.throws(() => jsonService({ baseURL: 'http://exa mple' }), { code: 'E_CONFIG', message: /baseURL/ });
});

test('a soak fixture with durationS 1e308 (or other absurd numbers) is refused with a clear error', (t) => {
  const base = { name: 'f', load: { rate: 10, durationS: 1 } };
  t.notThrows(() => validateFixture(base));
  for (const load of [{ rate: 10, durationS: 1e308 }, { rate: 1e12, durationS: 1 }, { rate: 10, calls: 1e12 }, { rate: 10, durationS: 1, timeoutMs: 1e308 }]) {
    const err = t.throws(() => validateFixture({ ...base, load }), { instanceOf: ConfigError });
    t.regex(err!.message, /\/load\//);
  }
  t.throws(() => validateFixture({ ...base, upstream: { defaults: { latency: { kind: 'fixed', ms: 1e10 } } } }), { code: 'E_CONFIG', message: /latency/ });
});

test('stats() stays cheap at the largest history (10000 records)', async (t) => {
  const ex = new Executor({ pool: inline, historySize: 10_000, queueCapacity: 20_000 });
  const svc = (await import('../helpers/services.js')).echo;
  const calls = [];
  for (let i = 0; i < 10_000; i++) calls.push(ex.call(svc, i));
  await Promise.all(calls);
  const small = new Executor({ pool: inline, historySize: 100 });
  for (let i = 0; i < 100; i++) await small.call(svc, i);
  const time = (e: Executor) => {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) e.stats();
    return (performance.now() - t0) / 5;
  };
  time(ex);
  const big = time(ex);
  t.is(ex.stats().history.length, 10_000);
  t.log(`stats() with 10000 records: ${big.toFixed(2)} ms; with 100: ${time(small).toFixed(3)} ms`);
  // Before the bound, historySize 1e8 made each stats() take 2.2 s; at the bound it stays in milliseconds.
  t.true(big < 100, `stats() took ${big.toFixed(1)} ms`);
  await ex.close();
  await small.close();
});
