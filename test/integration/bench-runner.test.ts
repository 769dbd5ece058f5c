/** The benchmark runner on a fake bench: baselines, comparison, targets and exit codes. */
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compare, type Row } from '../bench/baseline.js';
import { betterOf, judge, parseTarget } from '../bench/targets.js';
import { CHILD_EXEC_ARGV, EXT, TREE } from '../helpers/paths.js';
import { runNode, type NodeRun } from '../helpers/run-node.js';
import { tempDir } from '../helpers/temp-dir.js';

function bench(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeRun> {
  return runNode(['--expose-gc', ...CHILD_EXEC_ARGV, join(TREE, `test/bench/run${EXT}`), ...args], { ...process.env, CALLPOOL_BENCH_DIR: join(TREE, 'test/fixtures/bench-runner'), ...env });
}

test('parseTarget / judge: the note states the target; a machine-bound miss says so', (t) => {
  t.deepEqual(parseTarget('per run; target < 1000'), { op: '<', value: 1000 });
  t.deepEqual(parseTarget('target >= 5000/s per process'), { op: '>=', value: 5000 });
  t.deepEqual(parseTarget('40/1000 ms; target 0'), { op: '<=', value: 0 });
  t.deepEqual(parseTarget('target >= 200k/s'), { op: '>=', value: 200_000 });
  t.is(parseTarget('no target here'), undefined);
  const row = { name: 'p99', unit: 'µs', median: 1500, min: 1, max: 2, runs: 3, note: 'target < 1000' };
  t.deepEqual(judge(row), { target: { op: '<', value: 1000 }, met: false, machineBound: undefined });
  t.is(judge({ ...row, machineBound: 'stalls' })!.machineBound, 'stalls');
  t.is(judge({ ...row, median: 999 })!.met, true);
  t.is(betterOf({ ...row, note: 'target >= 3' }), 'higher');
  t.is(betterOf({ ...row, note: undefined, unit: 'chunks/CPU-s' }), 'higher');
  t.is(betterOf({ ...row, note: undefined, unit: 'ms' }), 'lower');
  t.is(betterOf({ ...row, note: undefined, unit: 'x' }), undefined);
});

test('compare: a row moved when the two min–max ranges do not overlap; worse by its direction', (t) => {
  const r = (name: string, median: number, min: number, max: number, unit = 'calls/s'): Row => ({ bench: 'b', name, unit, median, min, max, runs: 3 });
  const base = { node: 'v20', cpus: 2, cpu: undefined, date: 'd', results: [r('a', 100, 95, 105), r('b', 100, 95, 105), r('c', 10, 9, 11, 'ms')] };
  const [a, b, c, d] = compare([r('a', 103, 99, 110), r('b', 80, 75, 90), r('c', 8, 7, 8.5, 'ms'), r('new', 1, 1, 1)], base);
  t.like(a, { moved: false, regressed: false });
  t.is(a!.change!.toFixed(2), '0.03');
  t.like(b, { moved: true, regressed: true, change: -0.2 });
  t.like(c, { moved: true, regressed: false });
  t.like(d, { base: undefined, change: null, moved: false });
});

test.serial('npm run bench: --save, then --compare shows the baseline column, and --fail-on-regression exits 1', async (t) => {
  const out = tempDir(t, 'bench');
  const saved = await bench(['fake', '--save', 'base'], { CALLPOOL_BENCH_OUT: out });
  t.is(saved.code, 0, saved.stderr);
  t.true(existsSync(join(out, 'bench-results/baselines/base.json')));
  t.regex(saved.stdout, /target missed, bound by the machine: fake: wake-up p99: a bare loop stalled 12 times\/s in this run/);

  const compared = await bench(['--compare', 'base'], { CALLPOOL_BENCH_OUT: out, FAKE_BENCH_SLOWER: '1' });
  t.is(compared.code, 0, 'a regression alone does not fail without --fail-on-regression');
  const header = compared.stdout.split('\n').find((l) => l.startsWith('benchmark'))!;
  t.regex(header, /median\s+baseline\s+change\s+moved/);
  t.regex(compared.stdout, /fake: throughput\s+51\.0 calls\/s\s+101\.0 calls\/s\s+-49\.5%\s+MOVED, worse/);
  t.regex(compared.stdout, /fake: latency\s+1\.100 ms\s+1\.100 ms\s+\+0\.0%\s+1\.000/, 'within its spread: not marked');

  const failing = await bench(['fake', '--compare', 'base', '--fail-on-regression'], { CALLPOOL_BENCH_OUT: out, FAKE_BENCH_SLOWER: '1' });
  t.is(failing.code, 1);
  t.regex(failing.stdout, /regressed against 'base': fake: throughput: 101\.0 -> 51\.0 calls\/s \(-49\.5%\)/);
  const same = await bench(['fake', '--compare', 'base', '--fail-on-regression'], { CALLPOOL_BENCH_OUT: out });
  t.is(same.code, 0, same.stdout);
});

test.serial('npm run bench: a missed target exits 1; a missing baseline or a filter matching nothing exits 2 before anything runs', async (t) => {
  const out = tempDir(t, 'bench');
  const missed = await bench([], { CALLPOOL_BENCH_OUT: out, FAKE_BENCH_MISS: '1' });
  t.is(missed.code, 1);
  t.regex(missed.stdout, /TARGET MISSED: fake: misses its target: 5\.000 ms, target < 1/);
  t.regex(missed.stdout, /misses its target .* < 1 MISSED$/m);

  const noBaseline = await bench(['fake', '--compare', 'nope'], { CALLPOOL_BENCH_OUT: out });
  t.is(noBaseline.code, 2);
  t.regex(noBaseline.stderr, /no baseline 'nope'/);
  t.notRegex(noBaseline.stderr, /running/, 'nothing ran');
  t.is(noBaseline.stdout, '');
  const noMatch = await bench(['nothing-matches', '--save', 'x'], { CALLPOOL_BENCH_OUT: out });
  t.is(noMatch.code, 2);
  t.false(existsSync(join(out, 'bench-results/baselines/x.json')));
});
