import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { loadFixture, validateFixture } from '../../src/harness/fixture.js';
import { packageRoot, resolveFixture } from '../../src/harness/fixture-path.js';
import { tempDir } from '../helpers/temp-dir.js';

const SHIPPED = ['default', 'default-4x', 'burst', 'rate-limit-429', 'slow-consumer-streams', 'large-payloads-1mb', 'token-limited', 'long-soak', 'redis-shared'];

test('every shipped fixture validates', (t) => {
  for (const name of SHIPPED) {
    const file = resolveFixture(name);
    t.truthy(file, name);
    t.is(loadFixture(file!).name, name);
  }
});

test('a bad fixture lists every problem at once, each with its path and rule', (t) => {
  const err = t.throws(
    () =>
      validateFixture({
        name: '',
        executor: { concurrency: 0, pool: { kind: 'forkpool' } },
        load: { rate: -1, mix: { call: 1, telepathy: 2 } },
        expectations: { errorRateMax: 2, queueWaitP99: 10 },
      }),
    { instanceOf: ConfigError },
  );
  const found = (path: string, rule: string) => err!.issues.some((i) => i.path === path && i.rule === rule);
  t.true(found('/name', 'minLength'), 'name');
  t.true(found('/executor/concurrency', 'minimum'), 'concurrency');
  t.true(found('/executor/pool/kind', 'enum'), 'pool kind');
  t.true(found('/load/rate', 'minimum'), 'rate');
  t.true(found('/load/mix/telepathy', 'additionalProperties'), 'unknown mix kind');
  t.true(found('/expectations/errorRateMax', 'maximum'), 'error budget over 1');
  t.true(found('/expectations/queueWaitP99', 'additionalProperties'), 'misspelt expectation');
  t.is(err!.code, 'E_CONFIG');
});

test('a load needs a duration or a call count, and a mix that weighs something', (t) => {
  const err = t.throws(() => validateFixture({ name: 'x', load: { rate: 1, mix: { call: 0 } } }), { instanceOf: ConfigError });
  t.deepEqual(
    err!.issues.map((i) => [i.path, i.rule]),
    [
      ['/load', 'required'],
      ['/load/mix', 'minimum'],
    ],
  );
});

test('a missing file and broken JSON are configuration errors too', (t) => {
  const dir = tempDir(t, 'fixture');
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "name": "x", ');
  t.is(t.throws(() => loadFixture(broken), { instanceOf: ConfigError })!.issues[0]!.rule, 'json');
  t.is(t.throws(() => loadFixture(join(dir, 'absent.json')), { instanceOf: ConfigError })!.issues[0]!.rule, 'file');
});

test('fixtures resolve from the cwd first, then from the package fixtures folder', (t) => {
  const dir = tempDir(t, 'cwd');
  writeFileSync(join(dir, 'default.json'), '{}');
  t.is(resolveFixture('default', dir), join(dir, 'default.json'));
  t.is(resolveFixture('burst', dir), join(packageRoot()!, 'fixtures', 'burst.json'));
  t.is(resolveFixture('fixtures/burst.json', dir), join(packageRoot()!, 'fixtures', 'burst.json'));
  t.is(resolveFixture('no-such-fixture', dir), undefined);
});
