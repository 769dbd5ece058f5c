import type { Bin } from '../executor/latency-histogram.js';
import type { SoakReport } from './report.js';
import { barChart, escapeXml, lineChart } from './svg-chart.js';

const COLORS = { offered: '#8a8f98', completed: '#1f77b4', failed: '#d62728', heap: '#2ca02c', rss: '#9467bd', limit: '#d62728', window: '#1f77b4', tolerant: '#2ca02c', queue: '#ff7f0e', ttfb: '#17becf' };

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:780px;color:#1b1f24;padding:0 12px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.skip{color:#6e7781}
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{padding:4px 8px;border-bottom:1px solid #d0d7de;text-align:right}
td:first-child,th:first-child{text-align:left}.muted{color:#6e7781}
svg.chart{display:block;margin:12px 0;max-width:100%;height:auto;background:#fff}
svg .t{font-size:13px;font-weight:600;fill:#1b1f24}svg .a{font-size:11px;fill:#57606a}svg .g{stroke:#eaeef2;stroke-width:1}
`;

function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

function bars(bins: readonly Bin[]) {
  return bins.map((b) => ({ label: `≤${fmt(b.toMs, b.toMs < 10 ? 2 : 0)}`, value: b.count }));
}

/** Data embedded in a `<script type="application/json">`: `<` escaped so nothing can close the tag. */
function embed(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * One self-contained HTML file: the verdicts, the figures, and inline SVG charts (throughput
 * over time, queue wait distribution, memory over time, requests per window against the limit,
 * stream TTFB), with the whole JSON report embedded. No script runs, nothing is fetched.
 */
export function renderHtml(r: SoakReport): string {
  const s = (x: number) => x / 1000;
  const charts: string[] = [];
  const series = r.throughput.series;
  charts.push(
    lineChart({
      title: 'Throughput over time',
      xLabel: 'seconds',
      yLabel: 'per second',
      lines: [
        { name: 'offered/s', color: COLORS.offered, points: series.map((p) => [s(p.tMs), p['offered'] ?? 0] as const) },
        { name: 'completed/s', color: COLORS.completed, points: series.map((p) => [s(p.tMs), p['completed'] ?? 0] as const) },
        { name: 'failed/s', color: COLORS.failed, points: series.map((p) => [s(p.tMs), p['failed'] ?? 0] as const) },
      ],
    }),
  );
  charts.push(barChart({ title: 'Queue wait distribution', xLabel: 'ms (upper edge of each bin, log scale)', yLabel: 'calls', bars: bars(r.distributions.queueWaitMs), color: COLORS.queue }));
  charts.push(
    lineChart({
      title: 'Memory over time',
      xLabel: 'seconds',
      yLabel: 'MB',
      lines: [
        { name: 'heap after GC', color: COLORS.heap, points: r.memory.samples.map((m) => [s(m.tMs), m.heapMb] as const) },
        { name: 'RSS', color: COLORS.rss, points: r.memory.samples.map((m) => [s(m.tMs), m.rssMb] as const) },
      ],
    }),
  );
  if (r.rate !== null) {
    charts.push(
      lineChart({
        title: `Requests per ${r.rate.windowMs} ms window vs the limit (${r.rate.source})`,
        xLabel: 'seconds',
        yLabel: 'requests in window',
        lines: [
          { name: 'most in a window', color: COLORS.window, points: r.rate.windows.map((w) => [s(w.tMs), w.max] as const) },
          { name: `window − ${r.rate.toleranceMs} ms`, color: COLORS.tolerant, points: r.rate.windows.map((w) => [s(w.tMs), w.maxTolerant] as const) },
        ],
        reference: { y: r.rate.limit, label: `limit ${r.rate.limit}`, color: COLORS.limit },
      }),
    );
  }
  charts.push(barChart({ title: 'Stream time to first chunk (TTFB)', xLabel: 'ms (upper edge of each bin, log scale)', yLabel: 'streams', bars: bars(r.distributions.ttfbMs), color: COLORS.ttfb }));

  const exp = r.expectations
    .map((e) => {
      const cls = e.held === null ? 'skip' : e.held ? 'ok' : 'bad';
      const verdict = e.held === null ? `skipped: ${e.note ?? ''}` : e.held ? 'held' : `failed by ${fmt(e.by)} ${e.unit}`;
      return `<tr><td>${escapeXml(e.name)}</td><td>${e.bound === 'max' ? '≤' : '≥'} ${fmt(e.limit)} ${escapeXml(e.unit)}</td><td>${fmt(e.actual)} ${escapeXml(e.unit)}</td><td class="${cls}">${escapeXml(verdict)}</td></tr>`;
    })
    .join('');
  const lat = (name: string, x: SoakReport['latency']['queueWaitMs']) => `<tr><td>${name}</td><td>${x.count}</td><td>${fmt(x.p50)}</td><td>${fmt(x.p90)}</td><td>${fmt(x.p99)}</td><td>${fmt(x.max)}</td></tr>`;
  const c = r.calls;
  const rate = r.rate;
  const m = r.memory;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>callpool soak: ${escapeXml(r.fixture.name)}</title><style>${STYLE}</style></head>
<body>
<h1>callpool soak: ${escapeXml(r.fixture.name)}</h1>
<p class="muted">${escapeXml(r.fixture.description ?? '')}</p>
<p>${escapeXml(r.startedAt)} · ${escapeXml(r.fixture.file)} · seed ${r.fixture.seed} · ${r.target.kind === 'mock' ? 'embedded upstream' : escapeXml(r.target.url)} · pool ${escapeXml(r.executor.pool)}, concurrency ${r.executor.concurrency}, middleware [${escapeXml(r.executor.middleware.join(', '))}]</p>
<p class="${r.ok ? 'ok' : 'bad'}" id="verdict">${r.ok ? 'Every expectation held.' : `${r.expectations.filter((e) => e.held === false).length} expectation(s) failed.`}</p>
<h2>Expectations</h2>
<table><tr><th>expectation</th><th>limit</th><th>actual</th><th>verdict</th></tr>${exp || '<tr><td colspan="4">none</td></tr>'}</table>
<h2>Calls</h2>
<p>${c.offered} offered in ${fmt(r.loadMs / 1000, 1)} s (${c.byKind.call} calls, ${c.byKind.stream} streams, ${c.byKind.embeddings} embeddings): ${c.completed} completed, ${c.failed} failed, ${c.cancelled} cancelled, ${c.refused} refused${Object.keys(c.errors).length > 0 ? ` (${escapeXml(Object.entries(c.errors).map(([k, v]) => `${k} ${v}`).join(', '))})` : ''}. Throughput ${fmt(r.throughput.completedPerSec)} calls/s; ${r.streams.chunks} stream chunks, ${fmt(r.streams.chunksPerSec)} chunks/s.</p>
<table><tr><th>latency (ms)</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>${lat('queue wait', r.latency.queueWaitMs)}${lat('run time', r.latency.runTimeMs)}${lat('total', r.latency.totalMs)}${lat('stream TTFB', r.latency.ttfbMs)}${lat('generator lag', r.latency.generatorLagMs)}${lat('event-loop delay', r.latency.eventLoopDelayMs)}</table>
<h2>Rate limit</h2>
<p>${rate === null ? 'No request limit in this fixture.' : `Limit ${rate.limit} per ${rate.windowMs} ms, measured from ${rate.source === 'upstream-arrivals' ? "the upstream's own arrival log" : "the client's admission times"}: at most ${rate.maxInWindow} in any window (${rate.maxInWindowTolerant} allowing ${rate.toleranceMs} ms of dispatch jitter; overshoot ${rate.overshoot}; the times fit the limit with windows ${rate.jitterMsToFit} ms shorter)${rate.admissionsMaxInWindow === null ? '' : `; the executor's own admission times: at most ${rate.admissionsMaxInWindow}`}. Utilisation while saturated: ${rate.utilisation === null ? 'n/a (never saturated)' : `${fmt(rate.utilisation * 100, 1)}% over ${rate.saturatedPairs} requests (${fmt(rate.saturatedMs / 1000, 1)} s)`}.`}</p>
<h2>Memory</h2>
<p>Heap after GC ${fmt(m.heapStartMb, 1)} → ${fmt(m.heapEndMb, 1)} MB; slope over the second half ${fmt(m.heapSlope.mbPerMin)} ± ${fmt(m.heapSlope.stderr)} MB/min (${m.heapSlope.samples} samples); RSS slope ${fmt(m.rssSlope.mbPerMin)} MB/min; peak RSS ${fmt(m.peakRssMb, 0)} MB.</p>
${r.notes.map((n) => `<p class="muted">Note: ${escapeXml(n)}</p>`).join('\n')}
<h2>Charts</h2>
${charts.join('\n')}
<script type="application/json" id="soak-data">${embed(r)}</script>
</body></html>
`;
}
