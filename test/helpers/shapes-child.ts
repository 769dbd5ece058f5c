/**
 * Child for the shapes test (run with --allow-natives-syntax): makes the per-call
 * objects the way calls make them (on the inline pool and piscina, with a rate limit, a
 * deadline, an abort, capabilities), and prints, for each class, whether every one of them still
 * has the hidden class of the instance its module keeps.
 */
import { AbortHandle } from '../../src/core/abort-handle.js';
import { CallContext } from '../../src/core/call-context.js';
import { defineService } from '../../src/core/service.js';
import { ServiceCall } from '../../src/core/service-call.js';
import { keptShape } from '../../src/core/shapes.js';
import { CallEntry } from '../../src/executor/call-entry.js';
import { Executor } from '../../src/executor/executor.js';
import { MemoryTicket } from '../../src/limits/memory-limiter.js';
import { CALL_STATE, type Middleware } from '../../src/middleware/types.js';
import { PendingCall } from '../../src/pool/in-flight.js';
import { callRequest } from '../../src/pool/protocol.js';
import { SentReport } from '../../src/pool/sent-report.js';
import { EXT } from './paths.js';

const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const seen = new Map<string, Set<object>>();
const see = (name: string, o: object): void => void (seen.get(name) ?? seen.set(name, new Set()).get(name)!).add(o);

// A middleware that keeps each call's executor record, to be compared once the call settled.
const keep: Middleware = { name: 'keep', call: (inv, next) => (see('CallEntry', inv[CALL_STATE] as object), next(inv)) };
const limits = { requests: { limit: 1_000_000, windowMs: 1000 } };
const noop = defineService({ name: 'noop', module: new URL(`../fixtures/handlers/noop${EXT}`, import.meta.url) });
const sends = defineService<unknown, unknown>({ name: 'sends', handler: { call: async (_req, ctx) => (ctx.sent?.(), 1) } });
const slow = defineService<unknown, unknown>({ name: 'slow', handler: { call: (_req, _ctx, signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))) } });

for (const kind of ['inline', 'piscina'] as const) {
  const ex = new Executor({ limits, middleware: [keep], pool: kind === 'inline' ? { kind } : { kind, threads: 1 } });
  const contexts = [CallContext.new('a'), CallContext.withTimeout('b', 60_000), CallContext.new('c', { capabilities: ['net.out:*'], attrs: { k: 1 } }), CallContext.new('d', { deadlineMs: performance.now() + 60_000 })];
  const calls: ServiceCall[] = [];
  for (const ctx of contexts) {
    see('CallContext', ctx);
    calls.push(ex.submit(kind === 'inline' ? sends : noop, null, ctx));
  }
  const controller = new AbortController();
  calls.push(ex.submit(kind === 'inline' ? slow : noop, null, CallContext.new('e'), { signal: controller.signal }));
  controller.abort();
  await Promise.allSettled(calls.map((c) => c.result()));
  await ex.close();
  for (const c of calls) see('ServiceCall', c);
  for (const e of seen.get('CallEntry')!) {
    const entry = e as CallEntry;
    see('AbortHandle', entry.handle);
    if (entry.ticket !== undefined) see('MemoryTicket', entry.ticket as object);
  }
}
// Made as the pools make them, and taken through what they write.
const report = new SentReport(() => {});
report.sent();
report.ended();
see('SentReport', report);
const handle = new AbortHandle();
const pending = new PendingCall(callRequest('m', null, { callId: 'x', branchId: 'b', deadlineEpochMs: null, capabilities: [], attrs: {}, options: undefined }, 0), () => {}, () => {}, handle, undefined, () => {});
Object.assign(pending, { slot: {}, id: 7, orphaned: true, grace: setTimeout(() => {}, 0), graceDeferred: true });
clearTimeout(pending.grace);
see('PendingCall', pending);

const classes = { CallEntry, ServiceCall, CallContext, AbortHandle, MemoryTicket, SentReport, PendingCall };
const out: Record<string, { count: number; shared: boolean; kept: boolean }> = {};
for (const [name, cls] of Object.entries(classes)) {
  const kept = keptShape(cls);
  const live = [...(seen.get(name) ?? [])];
  out[name] = { count: live.length, kept: kept !== undefined, shared: kept !== undefined && live.every((o) => sameMap(o, kept)) };
}
process.stdout.write(JSON.stringify(out) + '\n');
