/**
 * The HTML report as a reader sees it: rendered by Debian's chromium (driven by playwright-core,
 * never a downloaded browser) at a desktop and a phone width.
 */
import test from 'ava';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../../src/harness/browser.js';
import type { SoakReport } from '../../src/harness/report.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const CHARTS = ['rate-windows', 'queue-depth', 'queue-wait', 'throughput', 'ttfb', 'memory'];

interface PageCheck {
  scrollWidth: number;
  innerWidth: number;
  overflowing: string[];
  charts: { name: string; visible: number; marks: number; problems: string[]; ticks: Record<string, number> }[];
}

/** Runs in the page: every visible chart's tick labels inside its plot and in value order, and nothing wider than the viewport. */
function inspect(): PageCheck {
  // DOM types are not in this project's lib; the page's globals are reached through globalThis.
  const { document, window } = globalThis as unknown as { document: any; window: any };
  type El = { getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; width: number }; getAttribute(n: string): string | null; querySelector(s: string): El; querySelectorAll(s: string): ArrayLike<El>; tagName: string; textContent: string | null };
  const overflowing: string[] = [];
  for (const el of Array.from(document.body.querySelectorAll('*') as ArrayLike<El>)) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > window.innerWidth + 0.5 || r.left < -0.5)) overflowing.push(`${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  const charts = Array.from(document.querySelectorAll('figure.chart') as ArrayLike<El>).map((fig) => {
    const svgs = Array.from(fig.querySelectorAll('svg.chart')).filter((s) => s.getBoundingClientRect().width > 0);
    const problems: string[] = [];
    const ticks: Record<string, number> = {};
    let marks = 0;
    for (const svg of svgs) {
      const box = svg.getBoundingClientRect();
      const plot = svg.querySelector('rect.plot')!.getBoundingClientRect();
      marks += svg.querySelectorAll('path.series, rect.bar, rect.column').length;
      for (const axis of ['x', 'y', 'y2']) {
        const labels = Array.from(svg.querySelectorAll(`text.tick.${axis}`)).map((t) => ({ v: Number(t.getAttribute('data-v')), r: t.getBoundingClientRect(), text: t.textContent }));
        ticks[axis] = labels.length;
        for (const l of labels) {
          const cx = (l.r.left + l.r.right) / 2;
          const cy = (l.r.top + l.r.bottom) / 2;
          if (l.r.left < box.left - 0.5 || l.r.right > box.right + 0.5 || l.r.top < box.top - 0.5 || l.r.bottom > box.bottom + 0.5) problems.push(`${axis} label ${l.text} outside the chart`);
          if (axis === 'x' && (cx < plot.left - 1 || cx > plot.right + 1)) problems.push(`x label ${l.text} at ${cx} outside the plot ${plot.left}..${plot.right}`);
          if (axis !== 'x' && (cy < plot.top - 1 || cy > plot.bottom + 1)) problems.push(`${axis} label ${l.text} at ${cy} outside the plot ${plot.top}..${plot.bottom}`);
        }
        for (let i = 1; i < labels.length; i++) {
          const a = labels[i - 1]!;
          const b = labels[i]!;
          if (!(b.v > a.v)) problems.push(`${axis} labels ${a.text}, ${b.text} not in increasing order of value`);
          if (axis === 'x' && !(b.r.left >= a.r.right)) problems.push(`x labels ${a.text} and ${b.text} out of order or overlapping`);
          if (axis !== 'x' && !(b.r.bottom <= a.r.top)) problems.push(`${axis} labels ${a.text} and ${b.text} not rising with their values`);
        }
      }
    }
    return { name: fig.getAttribute('data-chart') ?? '', visible: svgs.length, marks, problems, ticks };
  });
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, overflowing, charts };
}

test('soak --screenshot: the HTML report renders in headless chromium with its charts, offline, and fits 390 px and 1400 px', async (t) => {
  const dir = tempDir(t, 'report');
  const r = await runCli(['soak', 'default', '--duration', '3', '--out', dir, '--screenshot', '--no-progress']);
  t.true(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  const png = join(dir, 'default.png');
  t.true(existsSync(png), 'the screenshot is written next to the report');
  t.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  t.true(statSync(png).size > 20_000, 'a screenshot of a whole page, not a blank');
  t.regex(r.stdout, /Screenshot: .*default\.png/);
  const report = JSON.parse(readFileSync(join(dir, 'default.json'), 'utf8')) as SoakReport;

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (req) => {
    if (!req.url().startsWith('file:')) requests.push(req.url());
  });
  await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));

  for (const width of [1400, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(pathToFileURL(join(dir, 'default.html')).href);
    const check = await page.evaluate(inspect);
    t.is(check.innerWidth, width);
    t.true(check.scrollWidth <= width, `${width} px: the page is ${check.scrollWidth} px wide`);
    t.deepEqual(check.overflowing, [], `${width} px: nothing runs past the viewport`);
    t.deepEqual(
      check.charts.map((c) => c.name),
      CHARTS,
      'every chart is present',
    );
    for (const c of check.charts) {
      t.is(c.visible, 1, `${width} px, ${c.name}: one drawing shown`);
      t.true(c.marks > 0, `${width} px, ${c.name}: has data drawn`);
      t.deepEqual(c.problems, [], `${width} px, ${c.name}`);
      t.true(c.ticks['x']! >= 2 && c.ticks['y']! >= 2, `${width} px, ${c.name}: labelled axes ${JSON.stringify(c.ticks)}`);
    }
    // Heap and RSS differ tenfold or more here: each gets its own axis.
    const memory = check.charts.find((c) => c.name === 'memory')!;
    const rss = Math.max(...report.memory.samples.map((s) => s.rssMb));
    const heap = Math.max(...report.memory.samples.map((s) => s.heapMb));
    t.is(memory.ticks['y2']! > 0, rss / heap >= 10, `RSS ${rss} MB, heap ${heap} MB`);
    await page.screenshot({ path: join(dir, `default-${width}.png`), fullPage: true });
  }
  t.deepEqual(errors, [], 'no console errors');
  t.deepEqual(requests, [], 'no network requests');
  t.log(`screenshots in ${dir}`);
});
