import test from 'ava';
import { Type } from '@sinclair/typebox';
import { CallContext, Executor, defineService, type Pool } from '../../src/index.js';

// What a submission must pass before it is counted or queued: each refusal is a coded error that
// names the field and the rule, is counted under its reason, and leaves nothing accepted.

const echo = defineService<unknown, unknown>({ name: 'echo', handler: { call: (r: unknown) => r } });

interface Refusal {
  code: string;
  message: string;
  issues?: { path: string; rule: string; message: string }[];
}

function refusal(fn: () => unknown): Refusal {
  try {
    fn();
  } catch (err) {
    return err as Refusal;
  }
  throw new Error('not refused');
}

function inline(t: { teardown(fn: () => unknown): void }, options: Partial<ConstructorParameters<typeof Executor>[0]> = {}): Executor {
  const ex = new Executor({ pool: { kind: 'inline' }, ...options });
  t.teardown(() => ex.close());
  return ex;
}

/** Nothing was accepted or queued, and `reason` counted exactly `n` refusals. */
function onlyRefused(t: { is(a: unknown, b: unknown, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void }, ex: Executor, reason: 'invalid' | 'overLimit', n: number): void {
  const s = ex.stats();
  t.is(s.accepted, 0, 'nothing accepted');
  t.is(s.queued + s.running, 0, 'nothing queued or running');
  t.deepEqual(s.rejected, { queueFull: 0, closed: 0, invalid: reason === 'invalid' ? n : 0, overLimit: reason === 'overLimit' ? n : 0 });
}

test('not a service (null, a string, a function, an object without a string name): E_CONFIG at /, rule type; each counted invalid', (t) => {
  const ex = inline(t);
  const bad: unknown[] = [null, 'echo', () => undefined, {}, { name: 5 }];
  for (const service of bad) {
    const err = refusal(() => ex.submit(service as typeof echo, 1));
    t.is(err.code, 'E_CONFIG', String(service));
    t.regex(err.message, /^invalid service: /);
    t.deepEqual(err.issues, [{ path: '/', rule: 'type', message: 'must be a service made with defineService()' }]);
  }
  onlyRefused(t, ex, 'invalid', bad.length);
  t.is(ex.stats().rejected.invalid, 5);
});

test('a context that is not a CallContext: E_VALIDATION at /, rule instanceOf; counted invalid', (t) => {
  const ex = inline(t);
  for (const ctx of [{}, { callId: 'x', branchId: 'y' }, 'ctx']) {
    const err = refusal(() => ex.submit(echo, 1, ctx as unknown as CallContext));
    t.is(err.code, 'E_VALIDATION');
    t.regex(err.message, /^invalid call context: /);
    t.deepEqual(err.issues, [{ path: '/', rule: 'instanceOf', message: 'must be a CallContext (CallContext.new or CallContext.withTimeout)' }]);
  }
  onlyRefused(t, ex, 'invalid', 3);
  t.notThrows(() => ex.submit(echo, 1, CallContext.new('ok')), 'a real one passes');
});

test('an in-process handler on a pool that runs modules: E_CONFIG at /module, rule required, naming the service and the pool', (t) => {
  const outOfProcess: Pool = { kind: 'threads-of-mine', run: () => undefined, stream: () => (async function* () {})(), close: () => Promise.resolve() };
  const ex = inline(t, { pool: outOfProcess });
  const err = refusal(() => ex.submit(echo, 1));
  t.is(err.code, 'E_CONFIG');
  t.regex(err.message, /^invalid service 'echo': /);
  t.is(err.issues!.length, 1);
  t.like(err.issues![0], { path: '/module', rule: 'required' });
  t.regex(err.issues![0]!.message, /runs only on the inline pool; this executor's pool is 'threads-of-mine'/);
  onlyRefused(t, ex, 'invalid', 1);
});

test("a request its schema refuses: E_VALIDATION naming the service and the schema's issues; validateRequests: false lets it through", (t) => {
  const typed = defineService<{ n: number }, number>({
    name: 'typed',
    handler: { call: (r: { n: number }) => r.n },
    requestSchema: Type.Object({ n: Type.Number() }),
  });
  const ex = inline(t);
  const err = refusal(() => ex.submit(typed, { n: 'one' } as unknown as { n: number }));
  t.is(err.code, 'E_VALIDATION');
  t.regex(err.message, /^invalid request for 'typed': /);
  t.like(err.issues![0], { path: '/n', rule: 'type' });
  onlyRefused(t, ex, 'invalid', 1);
  const lax = inline(t, { validateRequests: false });
  t.notThrows(() => lax.submit(typed, { n: 'one' } as unknown as { n: number }));
});

test('a token estimate that is not a finite number >= 0: E_VALIDATION at /estimateTokens, rule minimum, saying what it got', (t) => {
  const ex = inline(t);
  const cases: [unknown, string][] = [
    [Number.NaN, 'NaN'],
    [-1, '-1'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['5', '5'],
    [undefined, 'undefined'],
  ];
  for (const [estimate, shown] of cases) {
    const svc = defineService({ name: 'est', handler: { call: () => 1 }, estimateTokens: () => estimate as number });
    const err = refusal(() => ex.submit(svc, 1));
    t.is(err.code, 'E_VALIDATION', shown);
    t.regex(err.message, /^invalid token estimate for 'est': /);
    t.deepEqual(err.issues, [{ path: '/estimateTokens', rule: 'minimum', message: `must return a finite number >= 0, got ${shown}` }]);
  }
  onlyRefused(t, ex, 'invalid', cases.length);
  for (const fine of [0, 7.5]) {
    const svc = defineService({ name: 'est', handler: { call: () => 1 }, estimateTokens: () => fine });
    t.notThrows(() => ex.submit(svc, 1), String(fine));
  }
});

test('an estimate no token window can ever hold: the limiter refuses it, counted overLimit, not invalid', (t) => {
  const ex = inline(t, { limits: { tokens: { limit: 100, windowMs: 1000 } } });
  const big = defineService({ name: 'big', handler: { call: () => 1 }, estimateTokens: () => 101 });
  const err = refusal(() => ex.submit(big, 1));
  t.is(err.code, 'E_RATE_LIMITED');
  t.regex(err.message, /101/);
  onlyRefused(t, ex, 'overLimit', 1);
});

test('refusals are checked in order: service, then context, then handler, then request, then estimate', (t) => {
  const ex = inline(t);
  const badEstimate = defineService({ name: 'est', handler: { call: () => 1 }, estimateTokens: () => -1, requestSchema: Type.Number() });
  t.regex(refusal(() => ex.submit(null as unknown as typeof echo, 1, {} as CallContext)).message, /^invalid service/);
  t.regex(refusal(() => ex.submit(badEstimate, 'x', {} as CallContext)).message, /^invalid call context/);
  t.regex(refusal(() => ex.submit(badEstimate, 'x')).message, /^invalid request for 'est'/);
  t.regex(refusal(() => ex.submit(badEstimate, 1)).message, /^invalid token estimate/);
  onlyRefused(t, ex, 'invalid', 4);
});
