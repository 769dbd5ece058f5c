/**
 * Child process for the far-deadline test: arms every timer a user can push far away (a call
 * deadline of 3e9 ms, a context's signal, `close({ timeoutMs: 3e9 })`, a setLongTimeout of
 * Infinity), or none (`control`), then idles ~600 ms and prints the CPU time it used meanwhile.
 */
import { CallContext, Executor } from '../../src/index.js';
import { setLongTimeout } from '../../src/core/timers.js';
import { gate } from './services.js';

const mode = process.argv[2] ?? 'control';
const ex = new Executor({ pool: { kind: 'inline' } });
const g = gate();
if (mode === 'far') {
  const ctx = CallContext.withTimeout('far', 3e9);
  void ctx.signal;
  ex.submit(g.service, { id: 1 }, ctx);
  ex.submit(g.service, { id: 2 }, CallContext.new('far', { deadlineMs: 1e300 }));
  setLongTimeout(() => process.exit(3), Infinity);
  void ex.close({ timeoutMs: 3e9 });
} else {
  ex.submit(g.service, { id: 1 }, CallContext.new('control'));
}
await new Promise((r) => setTimeout(r, 300));
const before = process.cpuUsage();
await new Promise((r) => setTimeout(r, 600));
const used = process.cpuUsage(before);
process.stdout.write(JSON.stringify({ cpuMs: (used.user + used.system) / 1000, stats: ex.stats() }) + '\n');
process.exit(0);
