/**
 * piscina loads its worker file with require() first. The built worker file it is given is
 * CommonJS that import()s the ESM entry, so no worker loads callpool through require(esm): a
 * Node 20 assertion in that path (ModuleWrap::CreateRequiredModuleFacade) once aborted a test
 * process while a piscina worker started.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { fromSource } from '../../src/core/source-mode.js';
import { workerEntry } from '../../src/pool/worker-host.js';

const shim = fileURLToPath(new URL(`../../workers/piscina-entry.${fromSource ? 'cts' : 'cjs'}`, import.meta.url));

test('require() of the piscina worker file loads no ES module: it hands back a promise of the session function', async (t) => {
  const require = createRequire(import.meta.url);
  const before = new Set(Object.keys(require.cache));
  const exported: unknown = require(shim);
  t.true(exported instanceof Promise, 'module.exports is the promise of an import()');
  const loaded = Object.keys(require.cache).filter((k) => !before.has(k) && k !== shim);
  t.deepEqual(loaded, [], 'nothing else entered the CommonJS cache (require(esm) would put the entry there)');
  const session = await (exported as Promise<unknown>);
  t.is(typeof session, 'function');
  t.is((session as () => void).name, 'serveSession');
});

test('the piscina host is given that file when built; from source, ts-entry.mjs, which require() refuses at once', (t) => {
  t.true(workerEntry('require').endsWith(fromSource ? '/workers/ts-entry.mjs' : '/workers/piscina-entry.cjs'), workerEntry('require'));
  t.true(workerEntry().endsWith(fromSource ? '/workers/ts-entry.mjs' : '/workers/entry.js'), workerEntry());
  if (fromSource) {
    // It awaits at its top level: require(esm) throws before evaluating it, and piscina import()s it.
    const require = createRequire(import.meta.url);
    t.throws(() => require(workerEntry('require')), { code: 'ERR_REQUIRE_ASYNC_MODULE' });
  }
});
