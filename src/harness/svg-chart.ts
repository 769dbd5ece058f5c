/** Small, dependency-free SVG charts for the HTML report: the file must open with no network. */

export interface Line {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: readonly Line[];
  /** A horizontal reference (a limit). */
  reference?: { y: number; label: string; color: string };
  width?: number;
  height?: number;
}

export interface Bar {
  label: string;
  value: number;
}

const PAD = { left: 56, right: 16, top: 28, bottom: 40 };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A tidy upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`;
  return String(Math.round(v * 100) / 100);
}

function frame(o: { title: string; xLabel: string; yLabel: string; width: number; height: number; yMax: number; xTicks: string[] }, body: string): string {
  const { width: w, height: h } = o;
  const plotH = h - PAD.top - PAD.bottom;
  const plotW = w - PAD.left - PAD.right;
  const parts: string[] = [];
  parts.push(`<svg class="chart" role="img" aria-label="${escapeXml(o.title)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">`);
  parts.push(`<title>${escapeXml(o.title)}</title>`);
  parts.push(`<text x="${PAD.left}" y="18" class="t">${escapeXml(o.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" class="g"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y + 4}" class="a" text-anchor="end">${label((o.yMax * i) / 4)}</text>`);
  }
  o.xTicks.forEach((t, i) => {
    const x = PAD.left + (plotW * i) / Math.max(1, o.xTicks.length - 1);
    parts.push(`<text x="${x}" y="${PAD.top + plotH + 16}" class="a" text-anchor="middle">${escapeXml(t)}</text>`);
  });
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${h - 4}" class="a" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text x="12" y="${PAD.top + plotH / 2}" class="a" text-anchor="middle" transform="rotate(-90 12 ${PAD.top + plotH / 2})">${escapeXml(o.yLabel)}</text>`);
  parts.push(body);
  parts.push('</svg>');
  return parts.join('');
}

/** Lines over a shared numeric x axis, with an optional horizontal reference line. */
export function lineChart(o: LineChartOptions): string {
  const w = o.width ?? 720;
  const h = o.height ?? 240;
  const xs = o.lines.flatMap((l) => l.points.map((p) => p[0]));
  const ys = o.lines.flatMap((l) => l.points.map((p) => p[1]));
  const xMin = xs.length === 0 ? 0 : Math.min(...xs);
  const xMax = xs.length === 0 ? 1 : Math.max(xMin + 1e-9, Math.max(...xs));
  const yMax = niceMax(Math.max(0, ...ys, o.reference?.y ?? 0) * 1.05);
  const plotW = w - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  const px = (x: number) => (PAD.left + ((x - xMin) / (xMax - xMin)) * plotW).toFixed(1);
  const py = (y: number) => (PAD.top + plotH - (Math.max(0, y) / yMax) * plotH).toFixed(1);
  const body: string[] = [];
  if (o.reference !== undefined) {
    const y = py(o.reference.y);
    body.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y}" y2="${y}" stroke="${o.reference.color}" stroke-dasharray="6 4" stroke-width="1.5"/>`);
    body.push(`<text x="${PAD.left + plotW - 4}" y="${Number(y) - 4}" class="a" text-anchor="end" fill="${o.reference.color}">${escapeXml(o.reference.label)}</text>`);
  }
  o.lines.forEach((l, i) => {
    if (l.points.length > 0) {
      const d = l.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p[0])},${py(p[1])}`).join('');
      body.push(`<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8" class="series" data-name="${escapeXml(l.name)}"/>`);
    }
    body.push(`<rect x="${PAD.left + 8 + i * 130}" y="${PAD.top + 2}" width="10" height="10" fill="${l.color}"/>`);
    body.push(`<text x="${PAD.left + 22 + i * 130}" y="${PAD.top + 11}" class="a">${escapeXml(l.name)}</text>`);
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => label(xMin + (xMax - xMin) * f));
  return frame({ title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, width: w, height: h, yMax, xTicks: xs.length === 0 ? [] : ticks }, body.join(''));
}

/** Bars of a distribution, labelled on the x axis. */
export function barChart(o: { title: string; xLabel: string; yLabel: string; bars: readonly Bar[]; color: string; width?: number; height?: number }): string {
  const w = o.width ?? 720;
  const h = o.height ?? 240;
  const plotW = w - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  const yMax = niceMax(Math.max(0, ...o.bars.map((b) => b.value)) * 1.05);
  const n = Math.max(1, o.bars.length);
  const bw = plotW / n;
  const body = o.bars.map((b, i) => {
    const bh = (b.value / yMax) * plotH;
    return `<rect class="bar" x="${(PAD.left + i * bw + 1).toFixed(1)}" y="${(PAD.top + plotH - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${o.color}"><title>${escapeXml(`${b.label}: ${b.value}`)}</title></rect>`;
  });
  const step = Math.max(1, Math.ceil(n / 6));
  const ticks = o.bars.filter((_, i) => i % step === 0).map((b) => b.label);
  return frame({ title: o.title, xLabel: o.xLabel, yLabel: o.yLabel, width: w, height: h, yMax, xTicks: ticks }, body.join(''));
}
