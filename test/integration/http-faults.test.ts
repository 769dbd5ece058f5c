import test from 'ava';
import { CallContext } from '../../src/core/call-context.js';
import { CancelledError, DeadlineExceededError, RateLimitError, TransportError, ValidationError } from '../../src/core/errors.js';
import { Executor } from '../../src/executor/executor.js';
import { startMockUpstream, type MockUpstream } from '../../src/harness/mock-upstream.js';
import type { PoolKind } from '../../src/pool/types.js';
import { openai } from '../../src/services/openai.js';
import type { TransportKind } from '../../src/transport/http-transport.js';
import { until } from '../helpers/wait-for.js';

const KEY = 'sk-test-FAULTS-NEVER-LOGGED-42';
const hello = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const ctx = () => CallContext.new('faults', { capabilities: ['net.out:127.0.0.1'] });

/** One upstream per fault, on the json-free chat route of each (so every fault is isolated). */
const FAULTS = {
  malformed: { malformedRate: 1 },
  wrongShape: { wrongShapeRate: 1 },
  reset: { resetRate: 1 },
  unavailable: { errors: [{ status: 503, rate: 1 }] },
  badRequest: { errors: [{ status: 400, rate: 1 }] },
  limited: { errors: [{ status: 429, rate: 1, retryAfterMs: 40 }] },
  silent: { stream: { chunks: 10, silentAfter: 2 } },
  slow: { latency: { kind: 'fixed' as const, ms: 10_000 } },
};

for (const [kind, transport] of [['inline', 'undici'], ['piscina', 'undici'], ['inline', 'node-fetch'], ['piscina', 'node-fetch']] as [PoolKind, TransportKind][]) {
  test(`[${kind}, ${transport}] each upstream fault gives its typed error through the executor; the key never shows`, async (t) => {
    const ups = {} as Record<keyof typeof FAULTS, MockUpstream>;
    for (const [name, route] of Object.entries(FAULTS)) ups[name as keyof typeof FAULTS] = await startMockUpstream({ apiKey: KEY, routes: { chat: route } });
    const ex = new Executor({ pool: { kind, threads: 2 }, concurrency: 10, limits: { requests: { limit: 10_000, windowMs: 1000 } } });
    t.teardown(async () => {
      await ex.close();
      await Promise.all(Object.values(ups).map((u) => u.close()));
    });
    const svc = (name: keyof typeof FAULTS, extra: object = {}) => openai.chat({ transport, baseURL: ups[name].baseURL, apiKey: KEY, model: 'm', ...extra });
    const errors: unknown[] = [];
    const expectError = async <E extends Error>(p: Promise<unknown>, cls: abstract new (...args: never[]) => E): Promise<E> => {
      const err = await t.throwsAsync(p, { instanceOf: cls as never });
      errors.push(err);
      return err as unknown as E;
    };

    const malformed = await expectError(ex.call(svc('malformed'), hello, ctx()), TransportError);
    t.regex(malformed.message, /not JSON/);
    const shape = await expectError(ex.call(svc('wrongShape'), hello, ctx()), ValidationError);
    t.is(shape.what, 'response');
    t.true((await expectError(ex.call(svc('reset'), hello, ctx()), TransportError)).retryable);
    const e503 = await expectError(ex.call(svc('unavailable'), hello, ctx()), TransportError);
    t.is(e503.status, 503);
    t.true(e503.retryable);
    t.false((await expectError(ex.call(svc('badRequest'), hello, ctx()), TransportError)).retryable);
    t.is((await expectError(ex.call(svc('limited'), hello, ctx()), RateLimitError)).retryAfterMs, 40);

    const chunks: unknown[] = [];
    const idle = await expectError(
      (async () => {
        for await (const c of ex.stream(svc('silent', { idleTimeoutMs: 200, streamUsage: false }), hello, ctx())) chunks.push(c);
      })(),
      TransportError,
    );
    t.regex(idle.message, /idle for 200 ms/);
    t.is(chunks.length, 3); // role chunk + 2 content chunks, then silence

    // The deadline and a cancel both reach the HTTP request: the upstream sees the connection go.
    await expectError(ex.call(svc('slow'), hello, CallContext.withTimeout('faults', 300, { capabilities: ['net.out:127.0.0.1'] })), DeadlineExceededError);
    await until(() => ups.slow.stats().inFlight === 0, 5000, 'the upstream to see the request aborted');
    const controller = new AbortController();
    const cancelled = ex.call(svc('slow'), hello, ctx(), { signal: controller.signal });
    await until(() => ups.slow.stats().inFlight === 1, 10_000, 'the slow request to arrive');
    controller.abort();
    await expectError(cancelled, CancelledError);
    await until(() => ups.slow.stats().inFlight === 0, 5000, 'the upstream to see the cancel');

    const everything = JSON.stringify([errors.map((e) => ({ ...(e as object), message: (e as Error).message, stack: (e as Error).stack })), ex.stats()]);
    t.false(everything.includes('FAULTS-NEVER-LOGGED'));
    t.false(/bearer/i.test(everything));
    t.like(ex.stats(), { running: 0, queued: 0 });
  });
}
