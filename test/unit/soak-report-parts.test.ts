import test from 'ava';
import { progressLine } from '../../src/harness/progress.js';
import { roundedBins } from '../../src/harness/report-builder.js';
import type { SoakProgress } from '../../src/harness/soak-types.js';
import { histogram, linearTicks, msText, niceStep } from '../../src/harness/svg-chart.js';

const p: SoakProgress = { elapsedMs: 7400, planned: 580, plannedMs: 20_000, offered: 190, done: 171, ratePerSec: 24.83, queueWaitP99Ms: 601.8, queued: 12, running: 16, heapMb: 15.14, rssMb: 332.4 };

test('progressLine: fits the width by dropping whole fields from the least useful; the rest of the room is a bar', (t) => {
  const full = progressLine(p);
  t.is(full, '171/580 calls | 7 s, ETA 13 s | 24.8/s | queue p99 601.8 ms | queued 12, running 16 | heap 15.1 MB | rss 332 MB');
  for (const width of [40, 60, 79, 100, 119, 200]) {
    const line = progressLine(p, width);
    t.true(line.length <= width, `${width}: ${line}`);
    const fields = line.replace(/^\[[#.]+\] /, '').split(' | ');
    t.deepEqual(fields, full.split(' | ').slice(0, fields.length), `${width}: a prefix of the fields, each whole`);
  }
  t.false(progressLine(p, 79).includes('rss'));
  t.true(progressLine(p, 79).includes('queue p99 601.8 ms'));
  t.regex(progressLine(p, 200), /^\[#{9}\.{21}\] 171\/580 calls .* rss 332 MB$/, 'a 30-character bar, 171/580 of it filled');
  t.regex(progressLine({ ...p, elapsedMs: 21_000 }), /21 s, draining/);
  t.regex(progressLine({ ...p, plannedMs: null, elapsedMs: 125_000 }), /2:05, ETA 16 s/, 'by calls: (580 - 171) / 24.83 per s');
});

test('niceStep / linearTicks: 1, 2, 2.5 or 5 times a power of ten', (t) => {
  t.is(niceStep(4.07, 5), 1);
  t.is(niceStep(480, 5), 100);
  t.is(niceStep(0.9, 4), 0.25);
  t.deepEqual(linearTicks(0, 4.07, 5, false).ticks, [0, 1, 2, 3, 4]);
  t.deepEqual(linearTicks(0, 13.2, 4, true), { lo: 0, hi: 15, ticks: [0, 5, 10, 15], step: 5 });
  t.deepEqual(linearTicks(0, 0.3, 3, true).ticks, [0, 0.1, 0.2, 0.3]);
});

test('roundedBins: the empty bins between filled ones come back, so a log axis shows the gap', (t) => {
  const r = 10 ** 0.25;
  const bins = [
    { fromMs: 0, toMs: 1, count: 3 },
    { fromMs: 1, toMs: r, count: 1 },
    { fromMs: r ** 3, toMs: r ** 4, count: 2 },
  ];
  t.deepEqual(
    roundedBins(bins).map((b) => [b.fromMs, b.toMs, b.count]),
    [
      [0, 1, 3],
      [1, 1.778, 1],
      [1.778, 3.162, 0],
      [3.162, 5.623, 0],
      [5.623, 10, 2],
    ],
  );
});

test('histogram: bars on a true log axis, labelled on bin edges in order', (t) => {
  const svg = histogram(
    { title: 'h', x: { label: 'ms' }, y: { label: 'n' }, bins: roundedBins([{ fromMs: 0, toMs: 0.01, count: 4 }, { fromMs: 0.01, toMs: 0.1, count: 1 }, { fromMs: 100, toMs: 1000, count: 2 }]), color: '#000' },
    { width: 720, height: 240 },
  );
  const xs = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" class="a tick x" data-v="([\d.e-]+)"/g)].map((m) => ({ x: Number(m[1]), v: Number(m[2]) }));
  t.true(xs.length >= 4);
  t.deepEqual([...xs].sort((a, b) => a.v - b.v), xs, 'in value order');
  t.deepEqual([...xs].sort((a, b) => a.x - b.x), xs, 'left to right');
  // Equal steps in log(value) are equal widths: the bar for 0.01-0.1 ms is as wide as the one for 100-1000 ms.
  const bars = [...svg.matchAll(/<rect class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => ({ x: Number(m[1]), w: Number(m[2]) }));
  t.is(bars.length, 3, 'empty bins draw nothing, but keep their width');
  t.true(Math.abs(bars[1]!.w - bars[2]!.w) < 0.3, JSON.stringify(bars));
  t.true(bars[2]!.x - (bars[1]!.x + bars[1]!.w) > 2.9 * bars[1]!.w, 'three empty decades between them');
  t.is(msText(0.0123), '0.012');
  t.is(msText(4.084), '4.1');
  t.is(msText(603.4), '603');
});
