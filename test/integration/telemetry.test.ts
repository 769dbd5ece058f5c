/**
 * OpenTelemetry through the model handle, recorded with the SDK's in-memory exporters: one span
 * per call with queue wait, provider, outcome and tokens, one child span per attempt, and the
 * metrics beside them. Without `@opentelemetry/api` installed, telemetry is a no-op.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { model, startMockUpstream, TransportError, type MockUpstreamOptions } from '../../src/index.js';
import { CHILD_EXEC_ARGV, EXT, ROOT, TREE } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp-dir.js';


function otel() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const metrics = async (): Promise<Map<string, MetricData>> => {
    await reader.forceFlush();
    const out = new Map<string, MetricData>();
    for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m);
    return out;
  };
  return { spans, tracerProvider, meterProvider, metrics };
}

async function upstream(t: { teardown(fn: () => unknown): void }, o: MockUpstreamOptions = {}) {
  const up = await startMockUpstream(o);
  t.teardown(() => up.close());
  return up;
}

const sum = (m: MetricData | undefined, pred: (attrs: Record<string, unknown>) => boolean = () => true) =>
  (m?.dataPoints ?? []).filter((d) => pred(d.attributes)).reduce((n, d) => n + (typeof d.value === 'number' ? d.value : (d.value as { count: number }).count), 0);

test('a call retried after a 429: one call span (queue wait, provider, outcome, tokens) with a child span per attempt, and metrics', async (t) => {
  const o = otel();
  // A 200 ms storm from the first request: attempt 1 gets 429 + retry-after-ms, attempt 2 succeeds.
  const up = await upstream(t, { routes: { chat: { throttle: { startAfter: 0, durationMs: 200, header: 'ms' } } } });
  const m = model('openai/gpt-4o-mini', { baseURL: up.baseURL, apiKey: 'k', pool: { kind: 'inline' }, telemetry: { tracerProvider: o.tracerProvider, meterProvider: o.meterProvider } });
  t.teardown(() => m.close());
  await m.chat({ messages: [{ role: 'user', content: 'hello' }] });

  const spans = o.spans.getFinishedSpans();
  const call = spans.find((s) => s.name === 'callpool.call openai.chat')!;
  t.truthy(call);
  t.like(call.attributes, { 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'callpool.outcome': 'ok', 'callpool.attempts': 2, 'callpool.tokens': 11, 'gen_ai.usage.input_tokens': 3, 'gen_ai.usage.output_tokens': 8 });
  t.is(typeof call.attributes['callpool.queue_wait_ms'], 'number');
  t.is(call.status.code, 1); // OK
  const attempts = spans.filter((s) => s.name.startsWith('callpool.attempt')).sort((a, b) => (a.attributes['callpool.attempt'] as number) - (b.attributes['callpool.attempt'] as number));
  t.deepEqual(attempts.map((s) => [s.name, s.attributes['callpool.outcome']]), [['callpool.attempt 1', 'E_RATE_LIMITED'], ['callpool.attempt 2', 'ok']]);
  for (const a of attempts) {
    t.is(a.parentSpanContext?.spanId, call.spanContext().spanId);
    t.is(a.spanContext().traceId, call.spanContext().traceId);
  }
  t.deepEqual(call.events.map((e) => e.name), ['attempt', 'attempt']);

  const metrics = await o.metrics();
  t.is(sum(metrics.get('callpool.calls'), (a) => a['callpool.outcome'] === 'ok' && a['gen_ai.system'] === 'openai'), 1);
  t.is(sum(metrics.get('callpool.attempts')), 2);
  t.is(sum(metrics.get('callpool.tokens'), (a) => a['gen_ai.token.type'] === 'input'), 3);
  t.is(sum(metrics.get('callpool.tokens'), (a) => a['gen_ai.token.type'] === 'output'), 8);
  t.is(sum(metrics.get('callpool.call.duration')), 1);
  t.is(sum(metrics.get('callpool.queue.wait')), 1);
  t.is(sum(metrics.get('callpool.calls.active')), 0);
});

test('an Anthropic stream: one stream span with its chunk count and input + output tokens', async (t) => {
  const o = otel();
  const up = await upstream(t, { routes: { messages: { stream: { chunks: 4, chunkBytes: 8 } } } });
  const m = model('anthropic/claude-3-5-haiku-latest', { baseURL: up.url, apiKey: 'k', pool: { kind: 'inline' }, telemetry: { tracerProvider: o.tracerProvider, meterProvider: o.meterProvider } });
  t.teardown(() => m.close());
  let n = 0;
  for await (const _ of m.stream({ messages: [{ role: 'user', content: 'hello' }] })) n++;
  const span = o.spans.getFinishedSpans().find((s) => s.name === 'callpool.stream anthropic.messages')!;
  // 4 deltas + start, block start, ping, block stop, message delta, stop.
  t.like(span.attributes, { 'gen_ai.system': 'anthropic', 'callpool.outcome': 'ok', 'callpool.chunks': n, 'gen_ai.usage.input_tokens': 3, 'gen_ai.usage.output_tokens': 8, 'callpool.tokens': 11 });
  t.is(n, 10);
  t.deepEqual(span.events.map((e) => e.name), ['first_chunk']);
});

test('a failed call: span status ERROR with the error code as outcome, the exception recorded without the key', async (t) => {
  const o = otel();
  const up = await upstream(t, { apiKey: 'right-key' });
  const m = model('openai/gpt-4o-mini', { baseURL: up.baseURL, apiKey: 'sk-wrong-DONOTLEAK', pool: { kind: 'inline' }, telemetry: { tracerProvider: o.tracerProvider, meterProvider: o.meterProvider } });
  t.teardown(() => m.close());
  await t.throwsAsync(m.chat({ messages: [{ role: 'user', content: 'hello' }] }), { instanceOf: TransportError });
  const span = o.spans.getFinishedSpans().find((s: ReadableSpan) => s.name === 'callpool.call openai.chat')!;
  t.is(span.status.code, 2); // ERROR
  t.is(span.attributes['callpool.outcome'], 'E_TRANSPORT');
  t.is(span.events.filter((e) => e.name === 'exception').length, 1);
  t.false(JSON.stringify(o.spans.getFinishedSpans().map((s) => [s.attributes, s.events])).includes('DONOTLEAK'));
  const metrics = await o.metrics();
  t.is(sum(metrics.get('callpool.calls'), (a) => a['callpool.outcome'] === 'E_TRANSPORT'), 1);
});

test('without @opentelemetry/api installed the handle works and telemetry is a no-op', async (t) => {
  const dir = tempDir(t, 'no-otel');
  // A resolve hook makes the package unresolvable, as in a project that never installed it.
  writeFileSync(join(dir, 'hide-otel.mjs'), `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, next) { if (s === '@opentelemetry/api') { const e = new Error('Cannot find package @opentelemetry/api'); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }"));
`);
  writeFileSync(join(dir, 'main.mjs'), `import { model, startMockUpstream, telemetry } from ${JSON.stringify(pathToFileURL(join(TREE, 'src', `index${EXT}`)).href)};
let importable = true;
try { await import('@opentelemetry/api'); } catch { importable = false; }
const up = await startMockUpstream();
const m = model('openai/gpt-4o-mini', { baseURL: up.baseURL, apiKey: 'k', pool: { kind: 'inline' } });
const out = await m.chat({ messages: [{ role: 'user', content: 'hi' }] });
let chunks = 0;
for await (const _ of m.stream({ messages: [{ role: 'user', content: 'hi' }] })) chunks++;
const ready = await telemetry().ready();
await m.close(); await up.close();
console.log(JSON.stringify({ importable, ready, content: out.choices[0].message.content, chunks }));
`);
  const { stdout } = await promisify(execFile)(process.execPath, [...CHILD_EXEC_ARGV, '--import', join(dir, 'hide-otel.mjs'), join(dir, 'main.mjs')], { cwd: ROOT });
  t.deepEqual(JSON.parse(stdout), { importable: false, ready: false, content: 'lorem ipsum dolor sit amet conse', chunks: 11 });
});
