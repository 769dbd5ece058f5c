import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CHILD_EXEC_ARGV, EXT, ROOT } from '../helpers/paths.js';

const exec = promisify(execFile);
const BACKENDS = ['ioredis', 'piscina', 'tinypool', 'msgpackr', 'undici'];

/** The packages loaded by importing `entry` (and running `run`'s default export, if given). */
async function loadedBy(entry: string, run?: string): Promise<string[]> {
  const { stdout } = await exec(process.execPath, [...CHILD_EXEC_ARGV, 'test/fixtures/imports/loaded-by.mjs', entry, ...(run ? [run] : [])], { cwd: ROOT });
  return JSON.parse(stdout.trim().split('\n').pop()!) as string[];
}

test('importing callpool loads none of its backends: ioredis, piscina, tinypool, msgpackr, undici', async (t) => {
  const loaded = await loadedBy(new URL(`../../src/index${EXT}`, import.meta.url).href);
  t.true(loaded.includes('ajv'), `the recorder sees packages: ${loaded.join(', ')}`);
  t.deepEqual(BACKENDS.filter((p) => loaded.includes(p)), []);
});

test('a backend loads when a configuration first uses it, and only that one', async (t) => {
  const loaded = await loadedBy(new URL(`../../src/index${EXT}`, import.meta.url).href, new URL(`../fixtures/imports/run-piscina${EXT}`, import.meta.url).href);
  t.deepEqual(BACKENDS.filter((p) => loaded.includes(p)), ['piscina', 'msgpackr', 'undici']);
});

test('msgpackr loads with the first packed result: a pool whose results are small never loads it', async (t) => {
  const loaded = await loadedBy(new URL(`../../src/index${EXT}`, import.meta.url).href, new URL(`../fixtures/imports/run-piscina-small${EXT}`, import.meta.url).href);
  t.deepEqual(BACKENDS.filter((p) => loaded.includes(p)), ['piscina']);
});
