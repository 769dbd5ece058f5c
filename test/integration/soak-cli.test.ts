import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockUpstream } from '../../src/harness/mock-upstream.js';
import type { SoakReport } from '../../src/harness/report.js';
import { ROOT } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const SHIPPED = ['default', 'default-4x', 'burst', 'rate-limit-429', 'slow-consumer-streams', 'large-payloads-1mb', 'token-limited', 'long-soak'];

/**
 * A shipped fixture must pass (exit 0) in its 2 s test run. Rate accuracy is judged strictly at
 * the upstream's arrival log, whose stamps are late by as much as the upstream's thread is kept
 * from running: on this shared 2-core machine (tests under nice 19) that thread was measured
 * stalling 99-154 ms at a load of 8-10, and a late-stamped batch then shares a window with the
 * next on-time one. So a strict overshoot is accepted only when the same run shows the machine
 * caused it: the executor admitted at most the limit, and the arrivals fit the limit in windows
 * shortened by the longest stall measured in that run (the upstream thread's or the main
 * thread's, + 10 ms). Any other failed expectation fails the test.
 */
function machineBound(r: SoakReport, failed: string): string | undefined {
  const rate = r.rate;
  if (failed !== 'rateOvershootMax' || rate === null) return undefined;
  if (rate.admissionsMaxInWindow === null || rate.admissionsMaxInWindow > rate.limit || rate.stall.maxInWindow > rate.limit) return undefined;
  return `strict ${rate.maxInWindow} > ${rate.limit}, but ${rate.stall.maxInWindow} in windows ${rate.stall.toleranceMs} ms shorter (upstream thread stalled ${rate.stall.observerDelayMs} ms); executor admitted at most ${rate.admissionsMaxInWindow}`;
}

const run = (args: string[], entry?: string[]) => runCli(args, entry === undefined ? {} : { entry });

const readReport = (dir: string, name: string): SoakReport => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as SoakReport;

function assertShape(t: import('ava').ExecutionContext, r: SoakReport, name: string): void {
  t.is(r.schema, 'callpool/soak-report@1');
  t.is(r.fixture.name, name);
  t.is(typeof r.ok, 'boolean');
  t.is(r.target.kind, 'mock');
  t.true(r.calls.offered > 0, 'calls were offered');
  t.true(r.calls.completed > 0, 'calls completed');
  t.is(r.calls.offered, r.calls.completed + r.calls.failed + r.calls.cancelled + r.calls.refused, 'every offered call is accounted for');
  for (const k of ['queueWaitMs', 'runTimeMs', 'totalMs', 'ttfbMs', 'generatorLagMs', 'eventLoopDelayMs'] as const) {
    t.deepEqual(Object.keys(r.latency[k]).sort(), ['count', 'max', 'mean', 'p50', 'p90', 'p99'], k);
  }
  t.true(r.throughput.series.length > 0);
  t.true(r.memory.samples.length >= 2, 'memory was sampled');
  t.true(r.memory.samples.every((s) => s.heapMb > 0 && s.rssMb >= s.heapMb));
  t.not(r.upstream, null);
  t.true(Array.isArray(r.expectations));
  for (const e of r.expectations) {
    t.true(e.held === null || e.held === (e.by === 0), `${e.name}: by is 0 exactly when it held`);
  }
  t.is(r.ok, r.expectations.every((e) => e.held !== false));
}

test.serial('soak: bad arguments exit with 2', async (t) => {
  const bad = [['soak', '--duration', '-3'], ['soak', '--seed', 'x'], ['soak', '--target', 'ftp://example'], ['soak', '--bogus'], ['soak', 'no-such-fixture']];
  for (const args of bad) {
    const r = await run(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /callpool/);
  }
});

test.serial('soak: a bad fixture exits with 2 and lists every problem with its path and rule', async (t) => {
  const dir = tempDir(t, 'soak');
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ name: 'bad', executor: { concurrency: 0 }, load: { rate: -1, durationS: 0 }, expectations: { queueWaitP99: 1 } }));
  const r = await run(['soak', file, '--out', dir]);
  t.is(r.code, 2);
  t.regex(r.stderr, /4 problems/);
  t.regex(r.stderr, /\/executor\/concurrency: .* \[minimum\]/);
  t.regex(r.stderr, /\/load\/rate: .* \[minimum\]/);
  t.regex(r.stderr, /\/load\/durationS: .* \[exclusiveMinimum\]/);
  t.regex(r.stderr, /\/expectations\/queueWaitP99: .* \[additionalProperties\]/);
  t.false(existsSync(join(dir, 'bad.json.json')));
});

test.serial('soak: an expectation that cannot hold exits with 1 and the report says by how much', async (t) => {
  const dir = tempDir(t, 'soak');
  const file = join(dir, 'impossible.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'impossible',
      upstream: { routes: { chat: { latency: { kind: 'fixed', ms: 2 } } } },
      executor: { concurrency: 4, pool: { kind: 'inline' } },
      load: { durationS: 1, rate: 20 },
      expectations: { throughputMin: 1_000_000, errorRateMax: 0.5 },
    }),
  );
  const r = await run(['soak', file, '--out', dir, '--no-progress']);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stdout, /throughputMin .*FAILED by/);
  const report = readReport(dir, 'impossible');
  t.false(report.ok);
  const failed = report.expectations.find((e) => e.name === 'throughputMin')!;
  t.is(failed.held, false);
  t.true(failed.by > 999_000);
  t.is(report.expectations.find((e) => e.name === 'errorRateMax')!.held, true);
});

for (const name of SHIPPED) {
  test.serial(`soak: a short run of the shipped '${name}' fixture`, async (t) => {
    const dir = tempDir(t, 'soak');
    const html = name === 'default';
    const r = await run(['soak', ...(name === 'default' ? [] : [name]), '--duration', '2', '--out', dir, ...(html ? ['--html'] : [])]);
    t.true(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    const report = readReport(dir, name);
    assertShape(t, report, name);
    t.is(r.code, report.ok ? 0 : 1);
    t.is(report.fixture.durationS, 2);
    const failed = report.expectations.filter((e) => e.held === false);
    const unexpected = failed.filter((e) => {
      const bound = machineBound(report, e.name);
      if (bound !== undefined) t.log(`${name}: ${e.name} missed, bound by the machine: ${bound}`);
      return bound === undefined;
    });
    t.deepEqual(unexpected.map((e) => `${e.name} by ${e.by} ${e.unit}`), [], 'every expectation of a shipped fixture holds');
    if (unexpected.length === 0 && failed.length === 0) t.is(r.code, 0);
    t.regex(r.stdout, /latency \(ms\)/);
    // The fixture's guard band, carried into the executor and named in the report and summary.
    const guard = (JSON.parse(readFileSync(join(ROOT, 'fixtures', `${name}.json`), 'utf8')) as { executor?: { guard?: number | 'auto' } }).executor?.guard ?? null;
    t.is(report.executor.guard, guard);
    if (typeof guard === 'number') t.regex(r.stdout, new RegExp(`\\(guard ${guard} ms\\)`));
    // Non-TTY: plain progress lines, no terminal control codes.
    t.notRegex(r.stderr, /\u001b\[/);
    if (html) {
      const page = readFileSync(join(dir, `${name}.html`), 'utf8');
      t.notRegex(page, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i, 'nothing is fetched');
      t.notRegex(page, /<link|<img|<iframe|@import/i);
      t.true((page.match(/<svg /g) ?? []).length >= 5, 'five charts');
      for (const title of ['Throughput over time', 'Queue wait distribution', 'Memory over time', 'Requests per 1000 ms window vs the limit', 'Stream time to first chunk']) {
        t.true(page.includes(title), title);
      }
      t.regex(page, /<path d="M/);
      t.regex(page, /class="bar"/);
      const data = /<script type="application\/json" id="soak-data">([\s\S]*?)<\/script>/.exec(page);
      t.truthy(data);
      t.deepEqual(JSON.parse(data![1]!), report);
    }
  });
}

test.serial('soak --target: runs against a given endpoint and measures rate accuracy from the client, saying so', async (t) => {
  const up = await startMockUpstream({ apiKey: 'sk-target-secret', routes: { chat: { latency: { kind: 'fixed', ms: 5 } } } });
  t.teardown(() => up.close());
  const dir = tempDir(t, 'soak');
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'soak', 'default', '--target', up.baseURL, '--model', 'm', '--duration', '2', '--out', dir, '--no-progress'], {
    cwd: ROOT,
    env: { ...process.env, OPENAI_API_KEY: 'sk-target-secret' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const report = readReport(dir, 'default');
  t.is(code, 0, `exit ${code}; failed: ${report.expectations.filter((e) => e.held === false).map((e) => `${e.name} by ${e.by} ${e.unit}`).join(', ')}; ${stderr}`);
  t.deepEqual(report.target, { kind: 'url', url: up.baseURL });
  t.is(report.rate?.source, 'client-admissions');
  t.true(report.notes.some((n) => n.includes("client's admission times")));
  t.is(report.upstream, null);
  for (const name of ['chunksPerSecMin', 'runTimeP99Ms', 'ttfbP99Ms'] as const) {
    const e = report.expectations.find((x) => x.name === name)!;
    t.is(e.held, null, `${name} is not judged against a target`);
    t.regex(e.note ?? '', /^only judged against the embedded upstream: /);
  }
  t.is(typeof report.expectations.find((x) => x.name === 'queueWaitP99Ms')!.held, 'boolean', 'the rest is judged');
  t.true(report.calls.completed > 0, 'the key from the environment was accepted');
  t.true(up.arrivals.total >= report.calls.completed);
  t.false(readFileSync(join(dir, 'default.json'), 'utf8').includes('sk-target-secret'), 'the key is never written');
});

const BIN_ENTRY = join(ROOT, 'dist/src/cli.js');
if (existsSync(BIN_ENTRY)) {
  test.serial('soak: the built bin runs a fixture', async (t) => {
    const dir = tempDir(t, 'soak');
    const r = await run(['soak', 'default', '--duration', '1', '--out', dir, '--no-progress'], [join(ROOT, 'bin/callpool.js')]);
    t.true(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
    // Only the wiring is checked here: dist/ may predate the source (it is rebuilt by `npm ci`).
    const report = readReport(dir, 'default');
    t.is(report.schema, 'callpool/soak-report@1');
    t.is(report.fixture.name, 'default');
    t.true(report.calls.completed > 0);
    t.is(r.code, report.ok ? 0 : 1);
  });
}
