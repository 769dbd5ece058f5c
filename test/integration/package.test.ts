/**
 * The package as users get it. The build output imported by name through the `exports` map;
 * and `npm pack`, installed from the tarball into a fresh folder (from
 * npm's cache where it can: --prefer-offline), then used by an ESM TypeScript project (strict,
 * nodenext), a CommonJS script, a CommonJS TypeScript project, and a piscina pool running the
 * consumer's own handler module from node_modules.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const dir = mkdtempSync(join(tmpdir(), 'callpool-consumer-'));

test.before(async () => {
  await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', `./${tarball}`], { cwd: dir });
  // The consumer's own handler package, as if installed from a registry.
  const handlers = join(dir, 'node_modules', 'my-handlers');
  mkdirSync(handlers);
  writeFileSync(join(handlers, 'package.json'), JSON.stringify({ name: 'my-handlers', version: '1.0.0', type: 'module', exports: { './echo': './echo.js' } }));
  writeFileSync(join(handlers, 'echo.js'), `import { threadId } from 'node:worker_threads';
export async function call(request, ctx) { return { echoed: request.text, threadId, branch: ctx.branchId }; }
`);
});

test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const typeRoots = [join(root, 'node_modules', '@types')];

/** A consumer project in the install folder: its package.json, and for TypeScript a strict nodenext tsconfig over the main file. */
function consumerApp(name: string, type: 'module' | 'commonjs', main: { file: string; source: string }): string {
  const app = join(dir, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ type }));
  if (main.file.endsWith('.ts')) {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false, types: ['node'], typeRoots, outDir: 'out' }, files: [main.file] }));
  }
  writeFileSync(join(app, main.file), main.source);
  return app;
}

/** A fresh folder whose node_modules/callpool links to this repository (its build), removed after the test. */
function linkedUser(t: ExecutionContext, main: string): string {
  const user = tempDir(t, 'user');
  mkdirSync(join(user, 'node_modules'));
  symlinkSync(root, join(user, 'node_modules', 'callpool'), 'dir');
  writeFileSync(join(user, 'main.mjs'), main);
  return user;
}

test.serial('ESM TypeScript (strict, nodenext, no skipLibCheck) compiles against the types and runs a model handle on piscina', async (t) => {
  const app = consumerApp('esm-ts', 'module', {
    file: 'main.ts',
    source: `import { model, startMockUpstream, isCallpoolError, type ChatCompletion, type ModelData } from 'callpool';
const up = await startMockUpstream();
await using m = model<{ messages: { role: string; content: string }[] }, ChatCompletion>('openai/gpt-4o-mini', { baseURL: up.baseURL, apiKey: 'k' });
const reply: ChatCompletion = await m.chat({ messages: [{ role: 'user', content: 'hi' }] });
const data: ModelData = m.toJSON();
let streamed = '';
for await (const c of m.stream({ messages: [{ role: 'user', content: 'hi' }] })) streamed += (c as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '';
console.log(JSON.stringify({ content: reply.choices[0]?.message.content, pool: m.executor.poolKind, data: data.id, streamed: streamed.length, guard: isCallpoolError(new Error('x')) }));
await up.close();
`,
  });
  await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
  const { stdout } = await run(process.execPath, ['out/main.js'], { cwd: app });
  t.deepEqual(JSON.parse(stdout), { content: 'lorem ipsum dolor sit amet conse', pool: 'piscina', data: 'openai/gpt-4o-mini', streamed: 128, guard: false });
});

test.serial('CommonJS: require("callpool") loads the ESM build (require(esm), no flag on this Node) and runs a call', async (t) => {
  const app = consumerApp('cjs', 'commonjs', {
    file: 'main.js',
    source: `const { model, startMockUpstream, Executor } = require('callpool');
(async () => {
  const up = await startMockUpstream();
  const m = model('anthropic/claude-3-5-haiku-latest', { baseURL: up.url, apiKey: 'k', pool: { kind: 'inline' } });
  const out = await m.chat({ messages: [{ role: 'user', content: 'hi' }] });
  await m.close();
  await up.close();
  console.log(JSON.stringify({ text: out.content[0].text, executor: typeof Executor, requireModule: process.features.require_module }));
})();
`,
  });
  const { stdout, stderr } = await run(process.execPath, ['main.js'], { cwd: app });
  t.deepEqual(JSON.parse(stdout), { text: 'lorem ipsum dolor sit amet conse', executor: 'function', requireModule: true });
  // Node >= 20.19 loads it without --experimental-require-module and without a warning.
  t.notRegex(stderr, /ExperimentalWarning|ERR_REQUIRE_ESM/);
});

test.serial('CommonJS TypeScript (module nodenext, type commonjs) compiles `import ... from "callpool"` to require and runs', async (t) => {
  const app = consumerApp('cjs-ts', 'commonjs', {
    file: 'main.ts',
    source: `import { CallContext, Executor, defineService, providers } from 'callpool';
async function main(): Promise<void> {
  const svc = defineService<{ n: number }, { doubled: number }>({ name: 'double', handler: { call: (r) => ({ doubled: r.n * 2 }) } });
  const ex = new Executor({ pool: { kind: 'inline' } });
  const out = await ex.call(svc, { n: 21 }, CallContext.new('b'));
  await ex.close();
  console.log(JSON.stringify({ out, hasOpenai: providers().includes('openai') }));
}
void main();
`,
  });
  await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app });
  const { stdout } = await run(process.execPath, ['out/main.js'], { cwd: app });
  t.deepEqual(JSON.parse(stdout), { out: { doubled: 42 }, hasOpenai: true });
});

test.serial("a piscina pool runs the consumer's own handler module from node_modules on worker threads", async (t) => {
  const app = join(dir, 'pool');
  mkdirSync(app);
  writeFileSync(
    join(app, 'main.mjs'),
    `import { CallContext, Executor, defineService } from 'callpool';
const echo = defineService({ name: 'echo', module: import.meta.resolve('my-handlers/echo') });
const ex = new Executor({ pool: { kind: 'piscina', threads: 2 }, concurrency: 4 });
const outs = await Promise.all([1, 2, 3, 4].map((i) => ex.call(echo, { text: 'hi ' + i }, CallContext.new('consumer'))));
await ex.close();
console.log(JSON.stringify(outs));
`,
  );
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: app });
  const outs = JSON.parse(stdout) as { echoed: string; threadId: number; branch: string }[];
  t.deepEqual(outs.map((o) => o.echoed), ['hi 1', 'hi 2', 'hi 3', 'hi 4']);
  t.true(outs.every((o) => o.threadId > 0 && o.branch === 'consumer'));
});

test('the built package imports cleanly by name from a plain .mjs file and runs a call', async (t) => {
  const user = linkedUser(
    t,
    `import { Executor, CallContext, defineService, QueueFullError, CallStatus } from 'callpool';
const svc = defineService({ name: 'echo', handler: { call: (r) => r } });
const ex = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 10, windowMs: 1000 } } });
const out = await ex.call(svc, { ok: true }, CallContext.withTimeout('b', 1000));
await ex.close();
console.log(JSON.stringify({ out, code: new QueueFullError(1).code, status: CallStatus.COMPLETED }));
`,
  );
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: user });
  t.deepEqual(JSON.parse(stdout), { out: { ok: true }, code: 'E_QUEUE_FULL', status: 'COMPLETED' });
});

test('callpool/testing exports the mock upstream and the arrival log; the root keeps exporting them', async (t) => {
  const user = linkedUser(
    t,
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
  const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: user });
  t.deepEqual(JSON.parse(stdout), { status: 200, arrivals: 1, logged: 1, same: true });
});

test('the build ships type declarations for the public API', (t) => {
  t.true(existsSync(join(root, 'dist', 'src', 'index.d.ts')));
  t.true(existsSync(join(root, 'dist', 'src', 'executor', 'executor.d.ts')));
});
