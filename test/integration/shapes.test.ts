/**
 * Each per-call class keeps one instance alive (core/shapes.ts), so a full GC with no call in
 * flight does not take its hidden class and, with it, the optimised code of the hot path. That
 * only helps if the objects real calls make end their lives with the kept instance's map: a
 * property added outside the constructor, or fields defined in another order, would give them
 * another one. Checked with V8's own %HaveSameMap in a child process.
 */
import test from 'ava';
import { join } from 'node:path';
import { CHILD_EXEC_ARGV, EXT, TREE } from '../helpers/paths.js';
import { runNode } from '../helpers/run-node.js';

test('the objects calls make keep the hidden class of the instance their module keeps alive', async (t) => {
  const r = await runNode(['--allow-natives-syntax', ...CHILD_EXEC_ARGV, join(TREE, `test/helpers/shapes-child${EXT}`)]);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, { count: number; kept: boolean; shared: boolean }>;
  t.deepEqual(Object.keys(out).sort(), ['AbortHandle', 'CallContext', 'CallEntry', 'MemoryTicket', 'PendingCall', 'SentReport', 'ServiceCall']);
  for (const [name, o] of Object.entries(out)) {
    t.true(o.kept, `${name}: an instance is kept`);
    t.true(o.count > 0, `${name}: some were made`);
    t.true(o.shared, `${name}: every one has the kept instance's map`);
  }
});
