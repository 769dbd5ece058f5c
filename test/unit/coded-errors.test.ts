import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import test from 'ava';
import { Type } from '@sinclair/typebox';
import { CallContext, CallpoolError, ConfigError, Executor, HandlerLoadError, ValidationError, defineService } from '../../src/index.js';
import { fixtureService } from '../helpers/pool-fixtures.js';
import { CHILD_EXEC_ARGV, ROOT } from '../helpers/paths.js';

/** Every error the library throws or rejects with is coded, the original as `cause`. */

test('historySize Infinity or 2**32 and other out-of-range numbers are E_CONFIG naming the field', (t) => {
  for (const historySize of [Infinity, 2 ** 32, 1e8, -1, NaN, 0.5]) {
    const err = t.throws(() => new Executor({ historySize, pool: { kind: 'inline' } }), { instanceOf: ConfigError });
    t.regex(err!.message, /\/historySize/);
  }
});

test('new Executor(null), a non-object config, is E_CONFIG', (t) => {
  for (const config of [null, 5, 'x', [], true]) {
    t.throws(() => new Executor(config as never), { instanceOf: ConfigError, message: /executor config/ });
  }
});

test('a bad Redis URL is E_CONFIG at construction, not ERR_INVALID_URL later', (t) => {
  for (const url of ['redis://exa mple:x', 'http://localhost:6379', 'localhost:6379', '']) {
    const err = t.throws(() => new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 1, windowMs: 1000 }, store: { kind: 'redis', url } } }), { instanceOf: ConfigError });
    t.regex(err!.message, /\/limits\/store\/url/);
  }
});

test('CallContext.new(1) / (undefined) / (null) are E_VALIDATION naming branchId', (t) => {
  for (const branch of [1, undefined, null, {}, Symbol('s')]) {
    t.throws(() => CallContext.new(branch as never), { instanceOf: ValidationError, message: /branchId/ });
    t.throws(() => CallContext.withTimeout(branch as never, 100), { instanceOf: ValidationError, message: /branchId/ });
  }
  for (const options of [1, 'x', null, []]) t.throws(() => CallContext.new('b', options as never), { code: 'E_VALIDATION' });
});

test('defineService({ module: 5 }) and other bad definitions are E_CONFIG naming the field', (t) => {
  for (const [def, path] of [
    [{ name: 's', module: 5 }, '/module'],
    [{ name: 's', module: null }, '/module'],
    [{ name: 's', module: {} }, '/module'],
    [{ name: 's', handler: null }, '/handler'],
    [{ name: 's', handler: 5 }, '/handler'],
    [{ name: { toString: () => { throw new Error('no'); } }, handler: { call: () => 1 } }, '/name'],
    [{ name: 's', handler: { call: () => 1 }, requestSchema: 5 }, '/requestSchema'],
  ] as const) {
    const err = t.throws(() => defineService(def as never), { instanceOf: ConfigError });
    t.regex(err!.message, new RegExp(path));
  }
});

test('a request schema AJV cannot compile is E_CONFIG with the AJV error as cause', (t) => {
  const err = t.throws(() => defineService({ name: 's', handler: { call: () => 1 }, requestSchema: Type.Unsafe({ type: 'no-such-type' }) }), { instanceOf: ConfigError });
  t.regex(err!.message, /\/requestSchema/);
  t.true(err!.cause instanceof Error);
  t.false(err!.cause instanceof CallpoolError);
  const cyclic: Record<string, unknown> = { type: 'object', properties: {} };
  (cyclic['properties'] as Record<string, unknown>)['self'] = cyclic;
  t.throws(() => defineService({ name: 's', handler: { call: () => 1 }, requestSchema: cyclic as never }), { code: 'E_CONFIG' });
});

for (const kind of ['inline', 'piscina'] as const) {
  test(`${kind}: a handler module that does not exist or throws on import fails the call with HandlerLoadError (E_HANDLER_LOAD)`, async (t) => {
    const ex = new Executor({ pool: { kind, threads: 1, execArgv: CHILD_EXEC_ARGV } as never });
    t.teardown(() => ex.close());
    const missing = defineService({ name: 'missing', module: pathToFileURL(join(ROOT, 'test/fixtures/handlers/does-not-exist.ts')) });
    const e1 = await t.throwsAsync(ex.call(missing, {}), { instanceOf: HandlerLoadError });
    t.is(e1!.code, 'E_HANDLER_LOAD');
    t.regex(e1!.message, /does-not-exist/);
    if (kind === 'inline') t.is((e1!.cause as { code?: string }).code, 'ERR_MODULE_NOT_FOUND');
    const e2 = await t.throwsAsync(ex.call(fixtureService('bad-import'), {}), { instanceOf: HandlerLoadError });
    t.regex(e2!.message, /this module cannot load/);
    if (kind === 'inline') t.is((e2!.cause as Error).message, 'this module cannot load');
    const s = ex.stats();
    t.is(s.failed, 2);
    t.is(s.accepted, s.completed + s.failed + s.cancelled + s.queued + s.running);
  });
}
