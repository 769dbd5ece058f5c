/**
 * Small, dependency-free SVG charts for the HTML report: the file must open with no network.
 * Every tick label carries its value (`data-v`) and the plot area is a `rect.plot`, so a
 * browser test can check that labels sit inside the plot, in the order of their values.
 */

export interface Line {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
  /** Which y axis it is read against. @default 'y' */
  axis?: 'y' | 'y2';
  /** Hold each value until the next point (a sampled gauge). @default false */
  step?: boolean;
  dashed?: boolean;
}

export interface AxisSpec {
  label: string;
  /** Colour of the axis title (when two y axes share a chart). */
  color?: string;
}

export interface Size {
  width: number;
  height: number;
}

export interface LineChartOptions extends Partial<Size> {
  title: string;
  x: AxisSpec;
  y: AxisSpec;
  /** A second y axis on the right, for lines with `axis: 'y2'`. */
  y2?: AxisSpec;
  lines: readonly Line[];
  /** A horizontal reference on the y axis (a limit). */
  reference?: { y: number; label: string; color: string };
  /** Columns from x0 to x1 (windows), drawn before the lines, with their legend entries. */
  columns?: { x0: number; x1: number; value: number; color: string; label?: string }[];
  columnLegend?: { name: string; color: string }[];
}

export interface HistogramBin {
  fromMs: number;
  toMs: number;
  count: number;
}

const CHAR_PX = 6.4;
const TICK_GAP_PX = 14;

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** 1, 2, 2.5 or 5 times a power of ten: the step of at most `maxTicks` intervals over `span`. */
export function niceStep(span: number, maxTicks: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, maxTicks);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw * (1 - 1e-9)) return m * p;
  return 10 * p;
}

/** Ticks at multiples of a nice step covering [min, max]; `extend` rounds the ends out to ticks. */
export function linearTicks(min: number, max: number, maxTicks: number, extend: boolean): { lo: number; hi: number; ticks: number[]; step: number } {
  if (!(max > min)) max = min + 1;
  const step = niceStep(max - min, maxTicks);
  const lo = extend ? Math.floor(min / step + 1e-9) * step : min;
  const hi = extend ? Math.ceil(max / step - 1e-9) * step : max;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(round(v, step));
  return { lo, hi, ticks, step };
}

function round(v: number, step: number): number {
  const d = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(12, d)));
}

/** A tick value as text: no more decimals than the step needs, thousands as k. */
export function tickText(v: number, step = v): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 10_000 && step >= 1000) return `${Number((v / 1000).toFixed(step >= 10_000 ? 0 : 1))}k`;
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toFixed(decimals);
}

/** A bin edge in ms as a short label: two significant figures below 10, whole numbers above. */
export function msText(v: number): string {
  if (v >= 10) return String(Math.round(v));
  if (v >= 1) return String(Number(v.toFixed(1)));
  return String(Number(v.toPrecision(2)));
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The plot box inside the chart, leaving room for title, legend, tick labels and axis titles. */
function frameFor(size: Size, legendRows: number, y2: boolean, yTickChars: number, y2TickChars: number): Frame {
  const left = 22 + Math.max(2, yTickChars) * CHAR_PX + 8;
  const right = y2 ? 22 + Math.max(2, y2TickChars) * CHAR_PX + 8 : 14;
  const top = 26 + legendRows * 16 + 6;
  return { width: size.width, height: size.height, left, right: size.width - right, top, bottom: size.height - 38 };
}

/** Legend rows: items wrap to the next row when the width runs out. */
function legendLayout(names: string[], width: number, left: number): { x: number; row: number }[] {
  const out: { x: number; row: number }[] = [];
  let x = left;
  let row = 0;
  for (const n of names) {
    const w = 18 + n.length * CHAR_PX + 14;
    if (x + w > width - 8 && x > left) {
      row++;
      x = left;
    }
    out.push({ x, row });
    x += w;
  }
  return out;
}

function open(title: string, size: Size, cls: string): string[] {
  return [
    `<svg class="chart ${cls}" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${size.width} ${size.height}" width="${size.width}" height="${size.height}">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="8" y="17" class="t">${escapeXml(title)}</text>`,
  ];
}

function legend(parts: string[], items: { name: string; color: string; dashed?: boolean }[], f: Frame, width: number): void {
  const layout = legendLayout(
    items.map((i) => i.name),
    width,
    f.left,
  );
  items.forEach((it, i) => {
    const { x, row } = layout[i]!;
    const y = 30 + row * 16;
    parts.push(`<line x1="${x}" x2="${x + 14}" y1="${y - 4}" y2="${y - 4}" stroke="${it.color}" stroke-width="3"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    parts.push(`<text x="${x + 18}" y="${y}" class="a legend">${escapeXml(it.name)}</text>`);
  });
}

function yAxis(parts: string[], f: Frame, ticks: number[], step: number, py: (v: number) => number, side: 'y' | 'y2', spec: AxisSpec): void {
  const x = side === 'y' ? f.left - 6 : f.right + 6;
  for (const v of ticks) {
    const y = py(v);
    if (side === 'y') parts.push(`<line x1="${f.left}" x2="${f.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="g"/>`);
    parts.push(`<text x="${x}" y="${(y + 4).toFixed(1)}" class="a tick ${side}" data-v="${v}" text-anchor="${side === 'y' ? 'end' : 'start'}">${tickText(v, step)}</text>`);
  }
  const cy = (f.top + f.bottom) / 2;
  const tx = side === 'y' ? 12 : f.width - 8;
  parts.push(
    `<text x="${tx}" y="${cy}" class="a axis-title" text-anchor="middle"${spec.color ? ` fill="${spec.color}"` : ''} transform="rotate(${side === 'y' ? -90 : 90} ${tx} ${cy})">${escapeXml(spec.label)}</text>`,
  );
}

function xAxisTitle(parts: string[], f: Frame, spec: AxisSpec): void {
  parts.push(`<text x="${(f.left + f.right) / 2}" y="${f.height - 6}" class="a axis-title" text-anchor="middle">${escapeXml(spec.label)}</text>`);
}

function plotRect(parts: string[], f: Frame): void {
  parts.push(`<rect class="plot" x="${f.left}" y="${f.top}" width="${f.right - f.left}" height="${f.bottom - f.top}" fill="none" stroke="#d0d7de"/>`);
}

/** X tick labels, dropping any that would collide with the one before (or run past the chart). */
function xTicks(parts: string[], f: Frame, ticks: number[], text: (v: number) => string, px: (v: number) => number): void {
  let lastRight = -Infinity;
  for (const v of ticks) {
    const x = px(v);
    const s = text(v);
    const half = (s.length * CHAR_PX) / 2;
    if (x - half < lastRight + TICK_GAP_PX || x + half > f.width - 2 || x - half < 2) continue;
    lastRight = x + half;
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${f.bottom}" y2="${f.bottom + 4}" stroke="#8c959f"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${f.bottom + 16}" class="a tick x" data-v="${v}" text-anchor="middle">${escapeXml(s)}</text>`);
  }
}

/** How many ticks fit along `px` pixels with labels about `chars` wide. */
function tickCount(px: number, chars: number): number {
  return Math.max(2, Math.floor(px / (chars * CHAR_PX + 3 * TICK_GAP_PX)));
}

/** Lines over a numeric x axis (nice ticks), one or two y axes, optional columns and a reference line. */
export function lineChart(o: LineChartOptions, size: Size, cls = ''): string {
  const xs = [...o.lines.flatMap((l) => l.points.map((p) => p[0])), ...(o.columns ?? []).flatMap((c) => [c.x0, c.x1])];
  const xMax = xs.length === 0 ? 1 : Math.max(...xs);
  const xMin = xs.length === 0 ? 0 : Math.min(0, ...xs);
  const valuesOf = (axis: 'y' | 'y2') => o.lines.filter((l) => (l.axis ?? 'y') === axis).flatMap((l) => l.points.map((p) => p[1]));
  const yTop = Math.max(0, ...valuesOf('y'), ...(o.columns ?? []).map((c) => c.value), o.reference?.y ?? 0);
  const plotH = size.height - 90;
  const y = linearTicks(0, yTop > 0 ? yTop * 1.05 : 1, Math.max(2, Math.floor(plotH / 34)), true);
  const y2 = o.y2 === undefined ? undefined : linearTicks(0, Math.max(1e-9, ...valuesOf('y2')) * 1.05, Math.max(2, Math.floor(plotH / 34)), true);
  const chars = (t: { ticks: number[]; step: number }) => Math.max(...t.ticks.map((v) => tickText(v, t.step).length));
  const items = [
    ...(o.columnLegend ?? []),
    ...o.lines.map((l) => ({ name: l.name, color: l.color, ...(l.dashed ? { dashed: true } : {}) })),
  ];
  const rows = legendLayout(
    items.map((i) => i.name),
    size.width,
    22 + chars(y) * CHAR_PX + 8,
  ).reduce((a, l) => Math.max(a, l.row + 1), 0);
  const f = frameFor(size, rows, y2 !== undefined, chars(y), y2 === undefined ? 0 : chars(y2));
  const px = (v: number) => f.left + ((v - xMin) / (xMax - xMin || 1)) * (f.right - f.left);
  const pyOf = (t: { lo: number; hi: number }) => (v: number) => f.bottom - ((Math.max(t.lo, Math.min(t.hi, v)) - t.lo) / (t.hi - t.lo)) * (f.bottom - f.top);
  const py = pyOf(y);
  const py2 = y2 === undefined ? py : pyOf(y2);
  const parts = open(o.title, size, cls);
  legend(parts, items, f, size.width);
  yAxis(parts, f, y.ticks, y.step, py, 'y', o.y);
  if (y2 !== undefined) yAxis(parts, f, y2.ticks, y2.step, py2, 'y2', o.y2!);
  const xt = linearTicks(xMin, xMax, tickCount(f.right - f.left, Math.max(String(Math.round(xMax)).length, 3)), false);
  xTicks(parts, f, xt.ticks, (v) => tickText(v, xt.step), px);
  xAxisTitle(parts, f, o.x);
  for (const c of o.columns ?? []) {
    const x0 = px(c.x0);
    const w = Math.max(1, px(c.x1) - x0 - 1);
    const top = py(c.value);
    parts.push(`<rect class="column" x="${x0.toFixed(1)}" y="${top.toFixed(1)}" width="${w.toFixed(1)}" height="${(f.bottom - top).toFixed(1)}" fill="${c.color}"><title>${escapeXml(c.label ?? String(c.value))}</title></rect>`);
    if (w >= 20) parts.push(`<text x="${(x0 + w / 2).toFixed(1)}" y="${(top - 3).toFixed(1)}" class="a count" text-anchor="middle">${c.value}</text>`);
  }
  if (o.reference !== undefined) {
    const ry = py(o.reference.y);
    parts.push(`<line x1="${f.left}" x2="${f.right}" y1="${ry.toFixed(1)}" y2="${ry.toFixed(1)}" stroke="${o.reference.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`);
    parts.push(`<text x="${f.right - 4}" y="${(ry - 4).toFixed(1)}" class="a ref" text-anchor="end" fill="${o.reference.color}" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(o.reference.label)}</text>`);
  }
  for (const l of o.lines) {
    if (l.points.length === 0) continue;
    const yOf = (l.axis ?? 'y') === 'y2' ? py2 : py;
    let d = '';
    l.points.forEach((p, j) => {
      const x = px(p[0]).toFixed(1);
      const yy = yOf(p[1]).toFixed(1);
      if (j === 0) d += `M${x},${yy}`;
      else if (l.step) d += `H${x}V${yy}`;
      else d += `L${x},${yy}`;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8"${l.dashed ? ' stroke-dasharray="5 3"' : ''} class="series" data-name="${escapeXml(l.name)}"/>`);
  }
  plotRect(parts, f);
  parts.push('</svg>');
  return parts.join('');
}

/**
 * A latency distribution on a true log x axis: each bin spans its own edges, empty bins stay
 * (as gaps), and tick labels sit on bin edges. The first bin starts at 0, which a log axis
 * cannot show: it is drawn from one bin-width below its upper edge.
 */
export function histogram(o: { title: string; x: AxisSpec; y: AxisSpec; bins: readonly HistogramBin[]; color: string }, size: Size, cls = ''): string {
  const bins = o.bins;
  const parts = open(o.title, size, cls);
  const yt = linearTicks(0, Math.max(1, ...bins.map((b) => b.count)) * 1.05, Math.max(2, Math.floor((size.height - 90) / 34)), true);
  const f = frameFor(size, 0, false, Math.max(...yt.ticks.map((v) => tickText(v, yt.step).length)), 0);
  if (bins.length === 0) {
    parts.push(`<text x="${(f.left + f.right) / 2}" y="${(f.top + f.bottom) / 2}" class="a" text-anchor="middle">no values</text>`);
    plotRect(parts, f);
    parts.push('</svg>');
    return parts.join('');
  }
  const ratio = bins.length > 1 ? bins[bins.length - 1]!.toMs / bins[bins.length - 1]!.fromMs : 2;
  const lowOf = (b: HistogramBin) => (b.fromMs > 0 ? b.fromMs : b.toMs / ratio);
  const lo = Math.log(lowOf(bins[0]!));
  const hi = Math.log(bins[bins.length - 1]!.toMs);
  const px = (v: number) => f.left + ((Math.log(v) - lo) / (hi - lo || 1)) * (f.right - f.left);
  const py = (v: number) => f.bottom - ((v - yt.lo) / (yt.hi - yt.lo)) * (f.bottom - f.top);
  yAxis(parts, f, yt.ticks, yt.step, py, 'y', o.y);
  const edges = [...new Set(bins.flatMap((b) => [lowOf(b), b.toMs]))].sort((a, b) => a - b);
  xTicks(parts, f, edges, msText, px);
  xAxisTitle(parts, f, o.x);
  for (const b of bins) {
    if (b.count === 0) continue;
    const x0 = px(lowOf(b));
    const top = py(b.count);
    parts.push(
      `<rect class="bar" x="${(x0 + 0.5).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, px(b.toMs) - x0 - 1).toFixed(1)}" height="${(f.bottom - top).toFixed(1)}" fill="${o.color}"><title>${escapeXml(`${msText(b.fromMs)}–${msText(b.toMs)} ms: ${b.count}`)}</title></rect>`,
    );
  }
  plotRect(parts, f);
  parts.push('</svg>');
  return parts.join('');
}
