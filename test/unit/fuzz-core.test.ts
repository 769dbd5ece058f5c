import fc from 'fast-check';
import test from 'ava';
import { CallContext, Executor, defineService } from '../../src/index.js';
import { RUNS, options, runs, settleSync, weird, weirdNumber } from '../helpers/fuzz.js';

/** Fuzz: CallContext, defineService and new Executor end in success or a documented code. */

const contextOptions = options(['deadlineMs', 'timeoutMs', 'capabilities', 'attrs', 'callId'], {
  deadlineMs: weirdNumber,
  timeoutMs: weirdNumber,
  capabilities: fc.array(fc.string(), { maxLength: 3 }),
  callId: fc.string(),
});

test('CallContext.new / withTimeout: success or E_VALIDATION; a made context has a sane deadline', (t) => {
  t.notThrows(() => fc.assert(
    fc.property(fc.oneof(fc.string(), weird), contextOptions, weirdNumber, (branch, opts, ms) => {
      const ctxs = [
        settleSync(() => CallContext.new(branch as string, opts as never)),
        settleSync(() => CallContext.withTimeout(branch as string, ms, opts as never)),
      ];
      for (const ctx of ctxs) {
        if (ctx === undefined) continue;
        // Deadlines are finite or absent; remainingMs never NaN.
        if (ctx.deadline !== undefined && !Number.isFinite(ctx.deadline)) throw new Error(`deadline ${ctx.deadline}`);
        if (Number.isNaN(ctx.remainingMs())) throw new Error('remainingMs NaN');
        void ctx.signal;
        JSON.stringify(ctx.toJSON === undefined ? {} : { deadline: ctx.toJSON().deadlineEpochMs });
      }
    }),
    RUNS,
  ));
});

const handlerArb = fc.oneof(fc.constant({ call: (r: unknown) => r }), fc.constant({ stream: async function* () {} }), weird);

test('defineService: success or E_CONFIG', (t) => {
  t.notThrows(() => fc.assert(
    fc.property(
      options(['name', 'module', 'handler', 'requires', 'rights', 'estimateTokens', 'tokensFromResult', 'tokensFromChunk', 'requestSchema', 'options'], {
        name: fc.string({ minLength: 1 }),
        module: fc.constantFrom('file:///nowhere.js', 'relative/path.js', '/abs/path.js', 'data:text/javascript,export const call=()=>1'),
        handler: handlerArb,
        requires: fc.array(fc.string(), { maxLength: 3 }),
        requestSchema: fc.constantFrom({ type: 'object' }, { type: 'nope' }, { minimum: 'x' }, { $ref: '#/nowhere' }),
      }),
      (def) => {
        settleSync(() => defineService(def as never));
      },
    ),
    RUNS,
  ));
});

const poolArb = fc.oneof(
  weird,
  fc.record({ kind: fc.constant('inline'), threads: weirdNumber, streamCredit: weirdNumber, abortGraceMs: weirdNumber, idleSpinUs: weirdNumber, maxHeapMb: weirdNumber }, { requiredKeys: ['kind'] }),
  fc.constant({ kind: 'inline' }),
  fc.constant({ run: () => 1 }),
);
const windowArb = fc.oneof(weird, fc.record({ limit: weirdNumber, windowMs: weirdNumber }), fc.array(fc.record({ limit: weirdNumber, windowMs: weirdNumber }), { maxLength: 2 }));
const limitsArb = fc.oneof(
  weird,
  fc.record(
    { requests: windowArb, tokens: windowArb, store: fc.oneof(weird, fc.constant({ kind: 'memory' }), fc.record({ kind: fc.constant('redis'), url: fc.oneof(fc.string(), fc.constantFrom('redis://exa mple', 'http://x', '')), commandTimeoutMs: weirdNumber })) },
    { requiredKeys: [] },
  ),
);

test('new Executor(config): success or E_CONFIG; a made executor closes cleanly', async (t) => {
  await t.notThrowsAsync(fc.assert(
    fc.asyncProperty(
      fc.oneof(
        { weight: 1, arbitrary: weird },
        {
          weight: 5,
          arbitrary: options(['queueCapacity', 'concurrency', 'limits', 'pool', 'middleware', 'historySize', 'validateRequests'], {
            queueCapacity: weirdNumber,
            concurrency: weirdNumber,
            historySize: weirdNumber,
            limits: limitsArb,
            pool: poolArb,
            middleware: fc.oneof(weird, fc.constant([]), fc.array(weird, { maxLength: 2 })),
          }),
        },
      ),
      async (config) => {
        // Keep the fuzz off worker threads: a config that would start them gets the inline pool.
        const c = typeof config === 'object' && config !== null && (config as { pool?: unknown }).pool === undefined ? { ...config, pool: { kind: 'inline' } } : config;
        const ex = settleSync(() => new Executor(c as never));
        if (ex !== undefined) await ex.close();
      },
    ),
    runs(200),
  ));
});
