/**
 * The path users take: callpool compiled to JavaScript (tsconfig.build.json), run by plain
 * `node` with no TypeScript loader, so the pool must find workers/entry.js beside dist/src.
 * Handler modules: compiled JavaScript, and TypeScript (tsx registered inside the worker).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
// Inside node_modules, so the build resolves the repo's dependencies and git ignores it.
const out = `${root}node_modules/.cache/callpool-compiled-${process.pid}`;

test.before(async () => {
  await mkdir(out, { recursive: true });
  // Type errors are the typecheck's business; tsc emits regardless, and this test needs the output.
  await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`, '--outDir', out, '--sourceMap', 'false', '--declaration', 'false'], { cwd: root }).catch(() => undefined);
  await access(`${out}/workers/entry.js`);
  await access(`${out}/src/pool/create-pool.js`);
  await writeFile(`${out}/package.json`, JSON.stringify({ type: 'module' }));
  await writeFile(
    `${out}/handler.js`,
    `export const call = (req) => ({ js: req });\nexport async function* stream(req) { for (let i = 0; i < req.n; i++) yield i; }\n`,
  );
});
test.after.always(async () => {
  await rm(out, { recursive: true, force: true });
});

for (const kind of ['piscina', 'tinypool']) {
  test(`${kind}: the compiled pool runs JavaScript and TypeScript handlers under plain node`, async (t) => {
    const script = `
      import { createPool } from ${JSON.stringify(pathToFileURL(`${out}/src/pool/create-pool.js`).href)};
      import { defineService } from ${JSON.stringify(pathToFileURL(`${out}/src/core/service.js`).href)};
      import { AbortHandle } from ${JSON.stringify(pathToFileURL(`${out}/src/core/abort-handle.js`).href)};
      const ctx = { callId: 'c', branchId: 'b', deadlineEpochMs: null, capabilities: [], attrs: {}, options: undefined };
      const pool = createPool({ kind: ${JSON.stringify(kind)}, threads: 1 });
      const js = defineService({ name: 'js', module: ${JSON.stringify(pathToFileURL(`${out}/handler.js`).href)} });
      const ts = defineService({ name: 'ts', module: ${JSON.stringify(pathToFileURL(`${root}test/fixtures/handlers/echo.ts`).href)} });
      const chunks = [];
      for await (const c of pool.stream({ service: js, request: { n: 3 }, ctx }, new AbortHandle())) chunks.push(c);
      const out = {
        js: await pool.run({ service: js, request: 1, ctx }, new AbortHandle()),
        ts: await pool.run({ service: ts, request: 'typed', ctx }, new AbortHandle()),
        chunks,
      };
      await pool.close();
      console.log(JSON.stringify(out));
    `;
    // A file, not `-e`: workers inherit execArgv, and `-e` there would run the script again.
    await writeFile(`${out}/run-${kind}.js`, script);
    const { stdout } = await run(process.execPath, [`${out}/run-${kind}.js`], { cwd: out, timeout: 60_000 });
    t.deepEqual(JSON.parse(stdout.trim()), { js: { js: 1 }, ts: 'typed', chunks: [0, 1, 2] });
  });
}
