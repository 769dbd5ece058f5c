/**
 * An outside provider adapter registered by prefix, several handles on one executor (one queue,
 * one concurrency limit, one rate limit), and OpenTelemetry spans printed by the SDK's console
 * exporter. Everything runs against the embedded upstream.
 * Run: node --import tsx examples/providers-and-telemetry.ts
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Executor, defaultMiddleware, model, openai, register, startMockUpstream } from '../src/index.js';

trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] }));

const up = await startMockUpstream({ routes: { chat: { latency: { kind: 'fixed', ms: 20 } } } });

// Any OpenAI-compatible gateway under its own prefix and key variable.
register({
  name: 'acme',
  apiKeyEnv: 'ACME_API_KEY',
  defaultBaseURL: up.baseURL,
  defaultLimits: () => ({ requests: { limit: 5, windowMs: 1000 } }),
  service: (c) => openai.chat({ name: 'acme.chat', baseURL: c.baseURL!, model: c.model, ...(c.apiKey ? { apiKey: c.apiKey } : {}) }),
});

// Two handles, one account: share the executor so both count against the same 5 requests a second.
// (Inline pool: the calls are tiny. On a cold piscina pool, calls admitted while the workers
// start leave together once they are up, so the upstream sees a burst; see "Exact at admission".)
const shared = new Executor({ pool: { kind: 'inline' }, limits: { requests: { limit: 5, windowMs: 1000 } }, middleware: defaultMiddleware() });
const small = model('acme/small', { executor: shared });
const large = model('acme/large', { executor: shared });
const t0 = performance.now();
await Promise.all([...Array(12)].map((_, i) => (i % 2 ? small : large).chat({ messages: [{ role: 'user', content: `call ${i}` }] })));
// 12 calls under one 5-a-second limit are admitted in three windows: at 0, 1 and 2 s.
console.log(`12 calls from two handles under one 5/s limit took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
await shared.close();
await up.close();
