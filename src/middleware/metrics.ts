import { Counter, Gauge, Registry } from 'prom-client';
import { now } from '../core/clock.js';
import { listen, type ExecutorEvents } from '../core/events.js';
import { callNext, streamNext } from './next-safely.js';
import { tapStream } from './observe-stream.js';
import { ScrapedHistogram, type HistogramSeries } from './scraped-histogram.js';
import { redact as defaultRedactor } from '../core/redact.js';
import { resolveMetricsOptions, type MetricsOptions } from './options.js';
import type { CallNext, Invocation, Middleware, StreamNext } from './types.js';

const CODE = /^[A-Z][A-Z0-9_]{0,39}$/;

export type { MetricsOptions } from './options.js';

export interface LatencySnapshot {
  count: number;
  sumMs: number;
  maxMs: number;
  /** Cumulative counts: how many took at most `leMs`. */
  buckets: { leMs: number; count: number }[];
}

export interface KindSnapshot {
  /** Settled calls (or streams) by outcome: `ok`, an error code, or `cancelled` (a stream the consumer left). */
  outcomes: Record<string, number>;
  latency: LatencySnapshot;
}

export interface ServiceMetrics {
  calls: KindSnapshot;
  streams: KindSnapshot & { chunks: number; bytes: number };
  rateLimited: number;
  queueFull: number;
  /** Queued to admitted, per admission (from the executor's `admitted` events). */
  queueWait: LatencySnapshot;
}

export interface MetricsSnapshot {
  services: Record<string, ServiceMetrics>;
}

export interface MetricsMiddleware extends Middleware {
  /** A plain-object copy of every counter, safe to serialise. */
  snapshot(): MetricsSnapshot;
  /** The metrics in Prometheus text exposition format, ready to serve. */
  prometheus(): Promise<string>;
  /** The Content-Type to serve `prometheus()` with. */
  readonly contentType: string;
  /** This middleware's own prom-client registry (never the global one); merge it if you like. */
  readonly registry: Registry;
}

class Latency {
  count = 0;
  sumMs = 0;
  maxMs = 0;
  readonly counts: number[];
  constructor(readonly boundsMs: readonly number[]) {
    this.counts = new Array<number>(boundsMs.length).fill(0);
  }
  record(ms: number): void {
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
    const b = this.boundsMs;
    for (let i = 0; i < b.length; i++) {
      if (ms <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
  snapshot(): LatencySnapshot {
    let acc = 0;
    return { count: this.count, sumMs: this.sumMs, maxMs: this.maxMs, buckets: this.boundsMs.map((leMs, i) => ({ leMs, count: (acc += this.counts[i]!) })) };
  }
}

interface KindState {
  outcomes: Map<string, number>;
  latency: Latency;
}

interface ServiceState {
  label: string;
  call: KindState;
  stream: KindState;
  chunks: number;
  bytes: number;
  rateLimited: number;
  queueFull: number;
  queueWait: Latency;
}

/**
 * Per-service counts by outcome, latency histograms, and chunk and byte counts for streams;
 * read them with `snapshot()` or serve `prometheus()`. Service names pass the redactor before
 * they become labels; outcomes are error codes, so label cardinality stays bounded.
 *
 * @example
 * const m = metrics();
 * const ex = new Executor({ middleware: [redaction(), m, policyGate()] });
 * http.createServer(async (_, res) => res.setHeader('content-type', m.contentType).end(await m.prometheus()));
 */
export function metrics(options: MetricsOptions = {}): MetricsMiddleware {
  const o = resolveMetricsOptions(options);
  const prefix = o.prefix;
  // Sorted and deduplicated: prom-client refuses bounds out of order.
  const boundsS = [...new Set(o.buckets)].sort((a, b) => a - b);
  const boundsMs = boundsS.map((s) => s * 1000);
  // Function defaults live here: a schema default is data.
  const sizeOf = o.sizeOf ?? defaultSizeOf;
  const scrub = o.redact ?? defaultRedactor;

  const services = new Map<string, ServiceState>();
  const registry = new Registry();
  // Counters are copied from our own tallies when scraped (`collect`): a prom-client `inc` on
  // the hot path costs about as much as the rest of this middleware together.
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, value: number) => void) => void) =>
    new Counter<L>({
      name: `${prefix}${name}`,
      help,
      labelNames,
      registers: [registry],
      collect(this: Counter<L>) {
        this.reset();
        fill((labels, value) => {
          if (value > 0) this.inc(labels as never, value);
        });
      },
    });
  counter('calls_total', 'Settled calls and streams by service, kind and outcome', ['service', 'kind', 'outcome'] as const, (set) => {
    for (const s of services.values()) {
      for (const [outcome, n] of s.call.outcomes) set({ service: s.label, kind: 'call', outcome }, n);
      for (const [outcome, n] of s.stream.outcomes) set({ service: s.label, kind: 'stream', outcome }, n);
    }
  });
  const perService = (name: string, help: string, value: (s: ServiceState) => number) =>
    counter(name, help, ['service'] as const, (set) => {
      for (const s of services.values()) set({ service: s.label }, value(s));
    });
  perService('stream_chunks_total', 'Stream chunks delivered', (s) => s.chunks);
  perService('stream_bytes_total', 'Stream bytes delivered', (s) => s.bytes);
  perService('rate_limited_total', 'Times the head of the queue waited for rate capacity', (s) => s.rateLimited);
  perService('queue_full_total', 'Submits refused because the queue was full', (s) => s.queueFull);
  new ScrapedHistogram(`${prefix}call_duration_seconds`, 'Time through the middleware below this one until settled', boundsS, function* (): Iterable<HistogramSeries> {
    for (const s of services.values()) {
      yield { labels: { service: s.label, kind: 'call' }, ...s.call.latency.snapshot() };
      yield { labels: { service: s.label, kind: 'stream' }, ...s.stream.latency.snapshot() };
    }
  }).register(registry);
  new ScrapedHistogram(`${prefix}queue_wait_seconds`, 'Time calls waited in the queue before admission', boundsS, function* (): Iterable<HistogramSeries> {
    for (const s of services.values()) yield { labels: { service: s.label }, ...s.queueWait.snapshot() };
  }).register(registry);
  // Read from the executor when scraped; absent until the middleware is attached to one.
  let depthOf: (() => number) | undefined;
  new Gauge({
    name: `${prefix}queue_depth`,
    help: 'Calls waiting in the queue',
    registers: [registry],
    collect(this: Gauge) {
      if (depthOf !== undefined) this.set(depthOf());
    },
  });

  const kindState = (): KindState => ({ outcomes: new Map(), latency: new Latency(boundsMs) });
  const stateOf = (service: string): ServiceState => {
    let s = services.get(service);
    if (s === undefined) {
      const label = scrub.string(service);
      s = { label, call: kindState(), stream: kindState(), chunks: 0, bytes: 0, rateLimited: 0, queueFull: 0, queueWait: new Latency(boundsMs) };
      services.set(service, s);
    }
    return s;
  };
  const settle = (s: ServiceState, kind: 'call' | 'stream', outcome: string, ms: number): void => {
    const k = kind === 'call' ? s.call : s.stream;
    k.outcomes.set(outcome, (k.outcomes.get(outcome) ?? 0) + 1);
    k.latency.record(ms);
  };
  let detach: (() => void) | undefined;

  return {
    name: 'metrics',
    registry,
    contentType: registry.contentType,

    call(inv: Invocation, next: CallNext): Promise<unknown> {
      const s = stateOf(inv.service.name);
      const start = now();
      return callNext(next, inv).then(
        (v) => {
          settle(s, 'call', 'ok', now() - start);
          return v;
        },
        (err: unknown) => {
          settle(s, 'call', outcomeOf(err), now() - start);
          throw err;
        },
      );
    },

    stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      const s = stateOf(inv.service.name);
      const start = now();
      return tapStream(streamNext(next, inv), {
        chunk(value) {
          const n = sizeOf(value);
          s.chunks++;
          s.bytes += n;
        },
        end: () => settle(s, 'stream', 'ok', now() - start),
        error: (err) => settle(s, 'stream', outcomeOf(err), now() - start),
        cancel: () => settle(s, 'stream', 'cancelled', now() - start),
      });
    },

    attach(events: ExecutorEvents): void {
      const source = events as ExecutorEvents & { readonly queued?: unknown };
      if (typeof source.queued === 'number') depthOf = () => source.queued as number;
      detach = listen(events, {
        admitted: (e) => {
          stateOf(e.service).queueWait.record(e.queueWaitMs);
        },
        rateLimited: (e) => {
          stateOf(e.service).rateLimited++;
        },
        queueFull: (e) => {
          stateOf(e.service).queueFull++;
        },
      });
    },

    close(): void {
      detach?.();
      detach = undefined;
      depthOf = undefined;
    },

    snapshot(): MetricsSnapshot {
      const out: Record<string, ServiceMetrics> = {};
      for (const s of services.values()) {
        out[s.label] = {
          calls: { outcomes: Object.fromEntries(s.call.outcomes), latency: s.call.latency.snapshot() },
          streams: { outcomes: Object.fromEntries(s.stream.outcomes), latency: s.stream.latency.snapshot(), chunks: s.chunks, bytes: s.bytes },
          rateLimited: s.rateLimited,
          queueFull: s.queueFull,
          queueWait: s.queueWait.snapshot(),
        };
      }
      return { services: out };
    },

    prometheus(): Promise<string> {
      return registry.metrics();
    },
  };
}

/** An error's code when it is a well-formed one; anything else is bucketed, never echoed. */
function outcomeOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'E_CANCELLED') return 'cancelled';
  if (code === undefined) return 'E_HANDLER';
  return typeof code === 'string' && CODE.test(code) ? code : 'E_OTHER';
}

function defaultSizeOf(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (ArrayBuffer.isView(chunk) || chunk instanceof ArrayBuffer) return chunk.byteLength;
  if (chunk === undefined || chunk === null) return 0;
  try {
    return Buffer.byteLength(JSON.stringify(chunk) ?? '');
  } catch {
    return 0;
  }
}
