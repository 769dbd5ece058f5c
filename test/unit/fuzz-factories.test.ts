import fc from 'fast-check';
import test from 'ava';
import {
  FailureRatio,
  HookRegistry,
  HookType,
  circuitBreaker,
  hooks,
  jsonService,
  metrics,
  openai,
  policyGate,
  redaction,
  retry,
  startMockUpstream,
  timeout,
} from '../../src/index.js';
import { validateFixture } from '../../src/harness/fixture.js';
import { RUNS, options, runs, settleAsync, settleSync, weird, weirdNumber } from '../helpers/fuzz.js';

/** Fuzz: every middleware factory, service factory, the mock upstream and the fixture validator. */

const fn = fc.constant(() => true);
const sane = (keys: readonly string[], numeric: readonly string[], fns: readonly string[] = []) =>
  options(keys, Object.fromEntries([...numeric.map((k) => [k, weirdNumber] as const), ...fns.map((k) => [k, fn] as const)]));

const factories: [string, fc.Arbitrary<unknown>, (o: unknown) => unknown][] = [
  ['retry', sane(['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'factor', 'shouldRetry', 'onRetry', 'clock', 'sleep', 'random'], ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'factor'], ['shouldRetry', 'onRetry', 'clock', 'random']), (o) => retry(o as never)],
  ['timeout', fc.oneof(weirdNumber, weird), (o) => timeout(o as never)],
  [
    'circuitBreaker',
    options(['trip', 'openMs', 'halfOpenProbes', 'closeAfter', 'isFailure', 'key', 'clock', 'onStateChange'], {
      trip: fc.oneof(fc.record({ consecutive: weirdNumber }), fc.record({ ratio: weirdNumber, windowMs: weirdNumber, minVolume: weirdNumber, buckets: weirdNumber }, { requiredKeys: ['ratio'] })),
      openMs: weirdNumber,
      halfOpenProbes: weirdNumber,
      closeAfter: weirdNumber,
      isFailure: fn,
    }),
    (o) => circuitBreaker(o as never),
  ],
  ['FailureRatio', sane(['ratio', 'windowMs', 'minVolume', 'buckets'], ['ratio', 'windowMs', 'minVolume', 'buckets']), (o) => new FailureRatio(o as never)],
  ['HookRegistry', sane(['defaultTimeoutMs', 'onError'], ['defaultTimeoutMs'], ['onError']), (o) => new HookRegistry(o as never)],
  ['HookRegistry.register', sane(['timeout'], ['timeout']), (o) => new HookRegistry().register(HookType.PRE_CALL, () => {}, o as never)],
  ['hooks', fc.tuple(fc.oneof(fc.constant(null).map(() => new HookRegistry()), weird), options(['redact'], { redact: fc.constantFrom(false, (v: unknown) => v) })), (o) => hooks(...(o as [never, never]))],
  ['metrics', options(['prefix', 'buckets', 'sizeOf', 'redact'], { prefix: fc.string(), buckets: fc.array(weirdNumber, { maxLength: 5 }), sizeOf: fn }), (o) => metrics(o as never)],
  ['policyGate', sane(['granted', 'extra'], [], ['granted', 'extra']), (o) => policyGate(o as never)],
  ['redaction', options(['keys', 'secrets', 'patterns'], { keys: fc.array(fc.string(), { maxLength: 3 }), secrets: fc.array(fc.string(), { maxLength: 3 }), patterns: fc.constant([/x/g]) }), (o) => redaction(o as never)],
  ['openai.chat', sane(['name', 'baseURL', 'apiKey', 'model', 'timeoutMs', 'idleTimeoutMs', 'headers', 'defaultMaxTokens', 'streamUsage'], ['timeoutMs', 'idleTimeoutMs', 'defaultMaxTokens']), (o) => openai.chat(o as never)],
  ['openai.completions', sane(['baseURL', 'timeoutMs', 'defaultMaxTokens'], ['timeoutMs', 'defaultMaxTokens']), (o) => openai.completions(o as never)],
  ['openai.embeddings', sane(['baseURL', 'timeoutMs', 'headers'], ['timeoutMs']), (o) => openai.embeddings(o as never)],
  [
    'jsonService',
    options(['name', 'baseURL', 'method', 'apiKey', 'headers', 'timeoutMs', 'responseSchema', 'estimateTokens'], {
      baseURL: fc.constantFrom('http://localhost:1', 'https://api.example.com/v2', 'http://exa mple', 'ftp://x'),
      timeoutMs: weirdNumber,
      responseSchema: fc.constantFrom({ type: 'object' }, { type: 'nope' }),
      estimateTokens: fn,
    }),
    (o) => jsonService(o as never),
  ],
  [
    'validateFixture',
    options(['name', 'seed', 'processes', 'load', 'executor', 'upstream', 'expectations', 'measure'], {
      name: fc.string({ minLength: 1 }),
      seed: weirdNumber,
      processes: weirdNumber,
      load: options(['durationS', 'calls', 'rate', 'timeoutMs', 'consumerDelayMs', 'promptChars', 'maxTokens'], { durationS: weirdNumber, calls: weirdNumber, rate: weirdNumber, timeoutMs: weirdNumber }),
      executor: options(['queueCapacity', 'concurrency', 'limits'], { queueCapacity: weirdNumber, concurrency: weirdNumber }),
      measure: options(['memoryEveryMs', 'drainTimeoutMs'], { memoryEveryMs: weirdNumber, drainTimeoutMs: weirdNumber }),
    }),
    (o) => validateFixture(o),
  ],
];

for (const [name, arb, make] of factories) {
  test(`${name}(any options): success or a documented code`, (t) => {
    t.notThrows(() => fc.assert(fc.property(arb, (o) => void settleSync(() => make(o))), RUNS));
  });
}

test('startMockUpstream(any options): success (then closes) or a documented code', async (t) => {
  await t.notThrowsAsync(
    fc.assert(
      fc.asyncProperty(
        options(['port', 'seed', 'arrivalCapacity', 'keepAliveTimeoutMs', 'defaults'], {
          port: fc.constant(0),
          seed: weirdNumber,
          arrivalCapacity: weirdNumber,
          keepAliveTimeoutMs: weirdNumber,
          defaults: options(['latency', 'responseBytes'], { latency: fc.record({ kind: fc.constant('fixed'), ms: weirdNumber }), responseBytes: weirdNumber }),
        }),
        async (o) => {
          const up = await settleAsync(startMockUpstream(o as never));
          if (up !== undefined) await up.close();
        },
      ),
      runs(60),
    ),
  );
});
