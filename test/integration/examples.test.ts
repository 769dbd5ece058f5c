/** The examples run against the embedded upstream (no keys needed) and keep working. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = { ...process.env, OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' };
const example = (name: string) => promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'examples', name)], { cwd: root, env });

test('examples/model-handle.ts - both providers answer through their handles', async (t) => {
  const { stdout } = await example('model-handle.ts');
  t.regex(stdout, /^openai: {4}lorem ipsum/m);
  t.regex(stdout, /^anthropic: lorem ipsum/m);
  t.regex(stdout, /^saved: .*"kind":"callpool\/model@1"/m);
  t.notRegex(stdout, /not-needed/);
});

test('examples/providers-and-telemetry.ts - a registered provider, a shared limit held, spans printed', async (t) => {
  const { stdout } = await example('providers-and-telemetry.ts');
  const took = Number(/under one 5\/s limit took ([\d.]+) s/.exec(stdout)?.[1]);
  // Three windows' worth: two full waits of 1 s, never less; well under 10 s even on a loaded machine.
  t.true(took >= 1.9 && took < 10, `took ${took} s`);
  t.regex(stdout, /'gen_ai.system': 'acme'/);
});
