import type { SoakReport } from './report.js';
import { escapeXml, histogram, lineChart, type Size } from './svg-chart.js';

const COLORS = { offered: '#8a8f98', completed: '#1f77b4', failed: '#d62728', heap: '#2ca02c', rss: '#9467bd', limit: '#d62728', window: '#4c78a8', over: '#d62728', tolerant: '#2ca02c', queued: '#ff7f0e', running: '#1f77b4', ttfb: '#17becf', wait: '#ff7f0e' };

/** Charts are drawn twice, for wide and for narrow screens, so their text stays legible on a phone. */
const WIDE: Size = { width: 720, height: 260 };
const NARROW: Size = { width: 360, height: 240 };

const STYLE = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:780px;color:#1b1f24;padding:0 12px}
h1{font-size:20px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:16px;margin:28px 0 8px}
p,li,dd{overflow-wrap:anywhere}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.skip{color:#6e7781}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dl.meta dt{color:#57606a}dl.meta dd{margin:0;min-width:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{padding:4px 8px;border-bottom:1px solid #d0d7de;text-align:right;vertical-align:top}
td:first-child,th:first-child{text-align:left}.muted{color:#6e7781}
table.verdicts td:last-child,table.verdicts th:last-child{text-align:left}
figure.chart{margin:12px 0}
svg.chart{display:block;max-width:100%;height:auto;background:#fff}
svg .t{font-size:13px;font-weight:600;fill:#1b1f24}svg .a{font-size:11px;fill:#57606a}svg .g{stroke:#eaeef2;stroke-width:1}svg .count{font-size:10px;fill:#1b1f24}
svg.narrow{display:none}
@media (max-width:600px){
body{margin:12px auto;font-size:13px}
svg.wide{display:none}svg.narrow{display:block}
td,th{padding:3px 4px}
table.latency{font-size:12px}
table.verdicts,table.verdicts tbody{display:block}
table.verdicts tr{display:grid;grid-template-columns:1fr auto auto;border-bottom:1px solid #d0d7de}
table.verdicts td,table.verdicts th{border:0}
table.verdicts th:last-child{display:none}
table.verdicts td:last-child{grid-column:1/-1;padding-top:0}
}
`;

function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

/** Data embedded in a `<script type="application/json">`: `<` escaped so nothing can close the tag. */
function embed(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function figure(name: string, draw: (size: Size, cls: string) => string): string {
  return `<figure class="chart" data-chart="${name}">${draw(WIDE, 'wide')}${draw(NARROW, 'narrow')}</figure>`;
}

const s = (ms: number) => ms / 1000;

function throughputChart(r: SoakReport): string {
  const series = r.throughput.series;
  const at = (k: string) => series.map((p) => [s(p.tMs), p[k] ?? 0] as const);
  return figure('throughput', (size, cls) =>
    lineChart(
      {
        title: 'Throughput over time',
        x: { label: 'seconds since the load started' },
        y: { label: 'calls per second' },
        lines: [
          { name: 'offered', color: COLORS.offered, points: at('offered') },
          { name: 'completed', color: COLORS.completed, points: at('completed') },
          { name: 'failed', color: COLORS.failed, points: at('failed') },
        ],
      },
      size,
      cls,
    ),
  );
}

function queueDepthChart(r: SoakReport): string {
  const at = (k: string) => r.queue.samples.map((p) => [s(p.tMs), p[k] ?? 0] as const);
  return figure('queue-depth', (size, cls) =>
    lineChart(
      {
        title: 'Queue depth over time',
        x: { label: 'seconds since the load started' },
        y: { label: 'calls' },
        lines: [
          { name: 'waiting in the queue', color: COLORS.queued, points: at('queued'), step: true },
          { name: 'running', color: COLORS.running, points: at('running'), step: true },
        ],
      },
      size,
      cls,
    ),
  );
}

/** What the provider sees: the most requests in any rolling window starting in each bucket, against the limit. */
function windowChart(r: SoakReport): string {
  const rate = r.rate!;
  const bucketMs = rate.windows.length > 1 ? Math.min(...rate.windows.slice(1).map((w, i) => w.tMs - rate.windows[i]!.tMs)) : rate.windowMs;
  const columns = rate.windows.map((w) => ({
    x0: s(w.tMs),
    x1: s(w.tMs + bucketMs),
    value: w.max,
    color: w.max > rate.limit ? COLORS.over : COLORS.window,
    label: `${fmt(s(w.tMs), 1)} s: at most ${w.max} requests in a ${rate.windowMs} ms window${w.max > rate.limit ? ` (${w.max - rate.limit} over the limit)` : ''}`,
  }));
  const lines =
    rate.toleranceMs > 0
      ? [{ name: `windows ${rate.toleranceMs} ms shorter (judged)`, color: COLORS.tolerant, dashed: true, points: rate.windows.map((w) => [s(w.tMs + bucketMs / 2), w.maxTolerant] as const) }]
      : [];
  return figure('rate-windows', (size, cls) =>
    lineChart(
      {
        title: `Requests per ${rate.windowMs} ms window vs the limit`,
        x: { label: 'seconds since the load started' },
        y: { label: 'requests in the window' },
        columns,
        columnLegend: [
          { name: 'most in a window (strict)', color: COLORS.window },
          ...(columns.some((c) => c.color === COLORS.over) ? [{ name: 'over the limit', color: COLORS.over }] : []),
        ],
        lines,
        reference: { y: rate.limit, label: `limit ${rate.limit}`, color: COLORS.limit },
      },
      size,
      cls,
    ),
  );
}

/** Heap and RSS on one axis, or each on its own when one is ten times the other (a flat heap line otherwise). */
function memoryChart(r: SoakReport): string {
  const m = r.memory.samples;
  const heapMax = Math.max(0, ...m.map((x) => x.heapMb));
  const rssMax = Math.max(0, ...m.map((x) => x.rssMb));
  const split = heapMax > 0 && rssMax / heapMax >= 10;
  return figure('memory', (size, cls) =>
    lineChart(
      {
        title: 'Memory over time',
        x: { label: 'seconds since the load started' },
        y: split ? { label: 'heap after GC (MB)', color: COLORS.heap } : { label: 'MB' },
        ...(split ? { y2: { label: 'RSS (MB)', color: COLORS.rss } } : {}),
        lines: [
          { name: split ? 'heap after GC (left axis)' : 'heap after GC', color: COLORS.heap, points: m.map((x) => [s(x.tMs), x.heapMb] as const) },
          { name: split ? 'RSS (right axis)' : 'RSS', color: COLORS.rss, points: m.map((x) => [s(x.tMs), x.rssMb] as const), ...(split ? { axis: 'y2' as const } : {}) },
        ],
      },
      size,
      cls,
    ),
  );
}

function distributionChart(name: string, title: string, bins: SoakReport['distributions']['queueWaitMs'], yLabel: string, color: string): string {
  return figure(name, (size, cls) => histogram({ title, x: { label: 'ms (log scale, labels on bin edges)' }, y: { label: yLabel }, bins, color }, size, cls));
}

function expectationsTable(r: SoakReport): string {
  const rows = r.expectations
    .map((e) => {
      const cls = e.held === null ? 'skip' : e.held ? 'ok' : 'bad';
      const verdict = e.held === null ? `skipped: ${e.note ?? ''}` : e.held ? 'held' : `failed by ${fmt(e.by)} ${e.unit}`;
      return `<tr><td>${escapeXml(e.name)}</td><td>${e.bound === 'max' ? '≤' : '≥'} ${fmt(e.limit)} ${escapeXml(e.unit)}</td><td>${fmt(e.actual)} ${escapeXml(e.unit)}</td><td class="${cls}">${escapeXml(verdict)}</td></tr>`;
    })
    .join('');
  return `<div class="scroll"><table class="verdicts"><tr><th>expectation</th><th>limit</th><th>actual</th><th>verdict</th></tr>${rows || '<tr><td colspan="4">none</td></tr>'}</table></div>`;
}

function latencyTable(r: SoakReport): string {
  const lat = (name: string, x: SoakReport['latency']['queueWaitMs']) => `<tr><td>${name}</td><td>${x.count}</td><td>${fmt(x.p50)}</td><td>${fmt(x.p90)}</td><td>${fmt(x.p99)}</td><td>${fmt(x.max)}</td></tr>`;
  const l = r.latency;
  return `<div class="scroll"><table class="latency"><tr><th>latency (ms)</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>${lat('queue wait', l.queueWaitMs)}${lat('run time', l.runTimeMs)}${lat('total', l.totalMs)}${lat('stream TTFB', l.ttfbMs)}${lat('generator lag', l.generatorLagMs)}${lat('event-loop delay', l.eventLoopDelayMs)}</table></div>`;
}

function rateText(r: SoakReport): string {
  const rate = r.rate;
  if (rate === null) return '<p>No request limit in this fixture.</p>';
  const from = rate.source === 'upstream-arrivals' ? "the upstream's own arrival log, warm-up included" : "the client's admission times (no independent observer with --target)";
  const judged = rate.toleranceMs === 0 ? 'strictly, as the provider counts' : `in windows ${rate.toleranceMs} ms shorter than the limit's (at most ${rate.maxInWindowTolerant})`;
  return `<p>Limit <b>${rate.limit} per ${rate.windowMs} ms</b>, judged ${judged}, from ${from}: at most <b class="${rate.maxInWindow > rate.limit ? 'bad' : 'ok'}">${rate.maxInWindow}</b> requests in any window; overshoot ${rate.overshoot}.${
    rate.admissionsMaxInWindow === null ? '' : ` The executor's own admission times: at most ${rate.admissionsMaxInWindow}.`
  }</p>
<p>Jitter: ${rate.stall.maxInWindow} in windows shortened by the longest stall of the main thread or the upstream's, plus 10 ms (${rate.stall.toleranceMs} ms${rate.stall.observerDelayMs === null ? '' : `; the upstream ${rate.stall.observerIsolation === 'process' ? 'process' : 'thread'}'s own: ${fmt(rate.stall.observerDelayMs, 1)} ms${rate.stall.observerNice === null ? '' : `, at nice ${rate.stall.observerNice}`}${rate.stall.observerRealtime === true ? ', real-time' : ''}`}); the arrivals fit the limit with windows ${fmt(rate.jitterMsToFit, 1)} ms shorter. Utilisation while saturated: ${
    rate.utilisation === null ? 'n/a (never saturated)' : `${fmt(rate.utilisation * 100, 1)}% over ${rate.saturatedPairs} requests (${fmt(rate.saturatedMs / 1000, 1)} s)`
  }.</p>`;
}

/**
 * One self-contained HTML file: the verdicts, the figures and inline SVG charts (requests per
 * window against the limit, queue depth, queue wait, throughput, stream TTFB, memory), with the
 * whole JSON report embedded. No script runs, nothing is fetched; it reads on a phone too.
 */
export function renderHtml(r: SoakReport): string {
  const c = r.calls;
  const m = r.memory;
  const failed = r.expectations.filter((e) => e.held === false).length;
  const verdict = r.interrupted
    ? `Interrupted after ${fmt(r.elapsedMs / 1000, 1)} s: ${failed === 0 ? 'every expectation judged held' : `${failed} expectation(s) failed`} (expectations that need the whole run were skipped).`
    : failed === 0
      ? 'Every expectation held.'
      : `${failed} expectation(s) failed.`;
  const target = r.target.kind === 'mock' ? 'the embedded upstream' : escapeXml(r.target.url);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>callpool soak: ${escapeXml(r.fixture.name)}</title><style>${STYLE}</style></head>
<body>
<h1>callpool soak: ${escapeXml(r.fixture.name)}</h1>
<p class="muted">${escapeXml(r.fixture.description ?? '')}</p>
<dl class="meta"><dt>started</dt><dd>${escapeXml(r.startedAt)}</dd><dt>fixture</dt><dd>${escapeXml(r.fixture.file)}, seed ${r.fixture.seed}</dd><dt>against</dt><dd>${target}</dd><dt>executor</dt><dd>pool ${escapeXml(r.executor.pool)}, concurrency ${r.executor.concurrency}, queue ${r.executor.queueCapacity}${r.executor.guard === null ? '' : `, guard ${r.executor.guard === 'auto' ? 'auto' : `${r.executor.guard} ms`}`}${r.processes === undefined ? '' : `, ${r.processes.count} processes`}</dd><dt>middleware</dt><dd>${escapeXml(r.executor.middleware.join(', ') || 'none')}</dd></dl>
<p class="${r.interrupted ? 'warn' : failed === 0 ? 'ok' : 'bad'}" id="verdict">${verdict}</p>
<h2>Expectations</h2>
${expectationsTable(r)}
<h2>Rate limit</h2>
${rateText(r)}
${r.rate === null ? '' : windowChart(r)}
<h2>Calls and queue</h2>
<p>${c.offered} offered in ${fmt(r.loadMs / 1000, 1)} s (${c.byKind.call} calls, ${c.byKind.stream} streams, ${c.byKind.embeddings} embeddings): ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.refused} refused${
    Object.keys(c.errors).length > 0 ? ` (${escapeXml(Object.entries(c.errors).map(([k, v]) => `${k} ${v}`).join(', '))})` : ''
  }. Throughput ${fmt(r.throughput.completedPerSec)} calls/s; ${r.streams.chunks} stream chunks, ${fmt(r.streams.chunksPerSec)} chunks/s.</p>
${latencyTable(r)}
${queueDepthChart(r)}
${distributionChart('queue-wait', 'Queue wait distribution', r.distributions.queueWaitMs, 'calls', COLORS.wait)}
${throughputChart(r)}
${distributionChart('ttfb', 'Stream time to first chunk (TTFB)', r.distributions.ttfbMs, 'streams', COLORS.ttfb)}
<h2>Memory</h2>
<p>Heap after GC ${fmt(m.heapStartMb, 1)} → ${fmt(m.heapEndMb, 1)} MB; slope over the second half ${fmt(m.heapSlope.mbPerMin)} ± ${fmt(m.heapSlope.stderr)} MB/min (${m.heapSlope.samples} samples); RSS slope ${fmt(m.rssSlope.mbPerMin)} MB/min; peak RSS ${fmt(m.peakRssMb, 0)} MB.</p>
${memoryChart(r)}
${r.notes.length === 0 ? '' : `<h2>Notes</h2>\n<ul>${r.notes.map((n) => `<li class="muted">${escapeXml(n)}</li>`).join('')}</ul>`}
<script type="application/json" id="soak-data">${embed(r)}</script>
</body></html>
`;
}
