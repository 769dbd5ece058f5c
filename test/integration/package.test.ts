/**
 * The package as a user gets it: `npm run build` output, imported by name through the
 * `exports` map from a plain .mjs file in another folder, with its type declarations.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test.before(async () => {
  // `npm ci` builds dist/ (the `prepare` script); build here when running from a bare checkout.
  if (!existsSync(join(root, 'dist', 'src', 'index.js')) || !existsSync(join(root, 'dist', 'src', 'testing.js'))) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
});

test('the built package imports cleanly by name from a plain .mjs file and runs a call', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'callpool-user-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'callpool'), 'dir');
  writeFileSync(
    join(dir, 'main.mjs'),
    `import { Executor, CallContext, defineService, QueueFullError, CallStatus } from 'callpool';
const svc = defineService({ name: 'echo', handler: { call: (r) => r } });
const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 10, windowMs: 1000 } } });
const out = await ex.call(svc, { ok: true }, CallContext.withTimeout('b', 1000));
await ex.close();
console.log(JSON.stringify({ out, code: new QueueFullError(1).code, status: CallStatus.COMPLETED }));
`,
  );
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: dir });
  t.deepEqual(JSON.parse(stdout), { out: { ok: true }, code: 'E_QUEUE_FULL', status: 'COMPLETED' });
});

test('callpool/testing exports the mock upstream and the arrival log; the root keeps exporting them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'callpool-user-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'callpool'), 'dir');
  writeFileSync(
    join(dir, 'main.mjs'),
    `import { startMockUpstream, ArrivalLog } from 'callpool/testing';
import * as root from 'callpool';
const up = await startMockUpstream({ apiKey: 'k' });
const res = await fetch(up.baseURL + '/chat/completions', { method: 'POST', headers: { authorization: 'Bearer k', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) });
const log = new ArrivalLog(4);
log.record(1, 'other');
console.log(JSON.stringify({ status: res.status, arrivals: up.arrivals.total, logged: log.times().length, same: root.startMockUpstream === startMockUpstream && root.ArrivalLog === ArrivalLog }));
await up.close();
`,
  );
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: dir });
  t.deepEqual(JSON.parse(stdout), { status: 200, arrivals: 1, logged: 1, same: true });
});

test('the build ships type declarations for the public API', (t) => {
  t.true(existsSync(join(root, 'dist', 'src', 'index.d.ts')));
  t.true(existsSync(join(root, 'dist', 'src', 'executor', 'executor.d.ts')));
});
