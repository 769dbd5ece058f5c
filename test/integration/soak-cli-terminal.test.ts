/**
 * The CLI in a real terminal: tmux (its own server socket, so nobody else's sessions are
 * touched) at 80 and 120 columns, reading the screen as a user would, and Ctrl-C sent as keys.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SoakReport } from '../../src/harness/report.js';
import { ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp-dir.js';

const SOCKET = `callpool-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

test.after.always(() => {
  try {
    tmux('kill-server');
  } catch {
    // No server left to stop.
  }
});

/** The fields of the progress line, each whole. */
const FIELDS = [/^\[[#.]+\] \d+\/\d+ calls$/, /^\d+\/\d+ calls$/, /^(\d+ s|\d+:\d\d), (ETA (\d+ s|\d+:\d\d)|draining|done)$/, /^\d+\.\d\/s$/, /^queue p99 \d+\.\d ms$/, /^queued \d+, running \d+$/, /^heap \d+\.\d MB$/, /^rss \d+ MB$/];

function startInTmux(name: string, columns: number, dir: string, args: string[]): void {
  const cmd = `cd '${ROOT}' && OPENAI_API_KEY= '${process.execPath}' --import tsx src/cli.ts soak ${args.join(' ')} --out '${dir}'; echo "EXIT=$?" > '${dir}/exit'; sleep 60`;
  tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', '40', cmd);
}

const screen = (name: string) => tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', name);

async function until<T>(what: string, f: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The live progress line once the load has run a couple of seconds. */
async function progressLine(name: string): Promise<string> {
  return until('a progress line two seconds into the load', () => screen(name).split('\n').find((l) => / calls \| ([2-9]|\d\d) s, ETA/.test(l))?.trimEnd());
}

const exitCode = (dir: string) => until('the exit code', () => (existsSync(join(dir, 'exit')) ? Number(/EXIT=(\d+)/.exec(readFileSync(join(dir, 'exit'), 'utf8'))![1]) : undefined));

function checkLine(t: import('ava').ExecutionContext, line: string, columns: number): string[] {
  t.log(`${columns} columns: ${line}`);
  t.true(line.length < columns, `fits ${columns} columns: ${JSON.stringify(line)} (${line.length})`);
  const parts = line.split(' | ');
  for (const p of parts) t.true(FIELDS.some((f) => f.test(p)), `a whole field: ${JSON.stringify(p)}`);
  t.regex(parts[0]!, /\d+\/\d+ calls$/, 'calls done come first');
  t.regex(parts[1]!, /ETA/, 'then elapsed time and ETA');
  return parts;
}

test.serial('progress at 120 columns: every field and a bar; the summary starts on a clean line', async (t) => {
  const dir = tempDir(t, 'tty');
  startInTmux('w120', 120, dir, ['default', '--duration', '5']);
  const parts = checkLine(t, await progressLine('w120'), 120);
  t.is(parts.length, 7, 'nothing dropped');
  t.regex(parts[0]!, /^\[[#.]{10,}\]/, 'a bar in the room left');
  t.true((await exitCode(dir)) <= 1);
  const lines = screen('w120').split('\n');
  const first = lines.find((l) => l.includes('callpool soak: default ('));
  t.truthy(first);
  t.regex(first!, /^callpool soak: default \(/, 'no progress text left before the summary');
  t.false(lines.some((l) => / calls \| /.test(l)), 'the progress line is cleared');
});

test.serial('progress at 80 columns drops the least useful fields whole; Ctrl-C prints a clean interrupted summary and exits 130', async (t) => {
  const dir = tempDir(t, 'tty');
  startInTmux('w80', 80, dir, ['default', '--duration', '20']);
  const parts = checkLine(t, await progressLine('w80'), 80);
  t.true(parts.length < 7, 'some fields dropped');
  t.false(parts.some((p) => p.startsWith('rss')), 'RSS, the least useful, goes first');
  t.true(parts.some((p) => p.startsWith('queue p99')), 'queue p99 kept whole');

  tmux('send-keys', '-t', 'w80', 'C-c');
  t.is(await exitCode(dir), 130);
  const text = screen('w80');
  const lines = text.split('\n');
  t.true(lines.some((l) => /^callpool soak: interrupted; finishing the calls in flight/.test(l)), text);
  const first = lines.find((l) => l.includes('callpool soak: default ('));
  t.regex(first ?? '', /^callpool soak: default \(.*INTERRUPTED after \d+\.\d s$/);
  t.regex(text, /result: interrupted after \d+\.\d s; of the \d+ expectation\(s\) it could judge/);
  t.notRegex(text, /every expectation held/);
  t.regex(text, /throughputMin|errorRateMax/);
  t.regex(text, /skipped: the run was interrupted/);
  const report = JSON.parse(readFileSync(join(dir, 'default.json'), 'utf8')) as SoakReport;
  t.true(report.interrupted);
  t.true(report.loadMs < 15_000, 'the load stopped early');
  for (const name of ['errorRateMax', 'chunksPerSecMin', 'heapSlopeMbPerMinMax'] as const) {
    t.is(report.expectations.find((e) => e.name === name)?.held, null, `${name} is not judged`);
  }
  t.not(report.expectations.find((e) => e.name === 'queueWaitP99Ms')?.held, null, 'what it measured is judged');
});
