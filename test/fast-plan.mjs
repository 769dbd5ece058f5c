#!/usr/bin/env node
// What `npm run test:fast` runs, and how: the compiled tests (test/build-js.mjs) less what is slow
// by nature, with most test files sharing a process. An ava process costs about 0.55 CPU-s
// before its first test and importing src another 0.4; over some 80 files that was half the
// run's CPU on two cores. Run as a script, it writes the group files into the build.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export const BUILD = '.test-build';
// Groups of the other files, beside the one on fake clocks and the one of fuzz properties.
export const GROUPS = 8;

// Not in test:fast: test/perf (measurements), the soak runs, and the tests that build or run the
// package whole: package (npm pack and install, consumers compiled with tsc), pool-compiled (tsc
// over the whole tree) and examples (each example a process with a worker pool).
const SLOW = [/\/soak-[^/]*\.test\.js$/, /\/package\.test\.js$/, /\/examples\.test\.js$/, /\/pool-compiled\.test\.js$/];

// Each in a process of its own, longest first (wall time, each run alone; see startRank): they
// mostly wait (rate windows, Redis restarts, timeouts), so their waits overlap instead of ending
// the run, and their timing checks do not share an event loop with a group's hundreds of tests.
export const ALONE = [
  'provider-door',
  'redis-limiter',
  'http-limits',
  'redis-outage',
  'transport-coarse-timer',
  'provider-limits',
  'transport-http',
  'pool-backends',
  'http-pipeline',
  // They measure the process's CPU while the executor idles, or count its threads.
  'fuzz-executor',
  'deadline-bounds',
  'model-handle',
];

// Redis files that wait long and use little CPU: they share one process, started first, so
// their waits (outages, three-process runs) overlap. The fail-closed switches (serial) run one
// at a time before the others start their children. (The coarse timer's file shared it once:
// children forked beside it held a timer of its 1.6 s late on a starved machine.)
export const WAITING = ['redis-switch', 'redis-shared', 'redis-sent'];
export const WAITING_FILE = `${BUILD}/test/fast/waiting.test.js`;

/** A file's place in ALONE (it runs alone, the earlier the sooner), or -1. */
export const aloneRank = (file) => ALONE.findIndex((name) => file.endsWith(`/${name}.test.js`));
const isWaiting = (file) => WAITING.some((name) => file.endsWith(`/${name}.test.js`));

// The first alone files start beside the waiting process; after them, groups and the other
// alone files alternate, so the cores have work while those files wait. (The groups all after
// the alone files left the cores two thirds idle for the first 10 s, and the costliest groups
// ending the run: 58-61 s against 52-56 s.)
const EARLY = 3;

/**
 * A file's place in the start order: the waiting files' process, the first EARLY alone files,
 * then a group (heaviest first: group-1 is the heaviest) and an alone file in turn.
 */
export function startRank(file) {
  if (file.endsWith(WAITING_FILE)) return -1;
  const group = /\/group-(\d+)\.test\.js$/.exec(file);
  if (group) return EARLY + 2 * (Number(group[1]) - 1);
  const i = aloneRank(file);
  return i < EARLY ? i : EARLY + 2 * (i - EARLY) + 1;
}

// The files whose tests run on a fake clock (test/helpers/fake-clock.ts) share a group of their
// own: a fake clock replaces the process's timers, which the pools and servers of other files'
// tests would otherwise find faked. Their tests are serial, and fast.
const onFakeClock = (file) => readFileSync(file, 'utf8').includes('/helpers/fake-clock.js');
// The fuzz files share a group of their own too: their synchronous properties hold the event
// loop for hundreds of ms at a time, which other files' timing checks would pay.
const isFuzz = (file) => /\/fuzz-[^/]*\.test\.js$/.test(file);

export function testFiles(build = BUILD) {
  return ['test/unit', 'test/integration']
    .flatMap((dir) => readdirSync(join(build, dir)).map((name) => join(build, dir, name)))
    .filter((f) => f.endsWith('.test.js') && !SLOW.some((re) => re.test(f)))
    .sort();
}

// A group runs the serial tests of all its files one after another before any other test, so
// files with serial tests are spread first, one a group while there are groups without one.
const hasSerial = (file) => readFileSync(file, 'utf8').includes('test.serial(');

/** The files that share the groups' processes (not alone, not waiting). */
export function sharedFiles(build = BUILD) {
  return testFiles(build).filter((f) => aloneRank(f) === -1 && !isWaiting(f));
}

// Each shared file's CPU-s run alone, less an ava process's own (node test/fast-costs.mjs).
export const COSTS_FILE = 'test/fast-costs.json';

/**
 * A cost per file: its measured CPU-s, or for a file the table does not know, its compiled size
 * at the table's median CPU-s per byte. (Balancing by size alone put the three heaviest pool
 * files in one group: 9 CPU-s and 18 s of wall time, while other groups took 2.)
 */
export function costs(files, build = BUILD) {
  const table = existsSync(COSTS_FILE) ? JSON.parse(readFileSync(COSTS_FILE, 'utf8')).cpuS : {};
  const rows = files.map((f) => ({ f, bytes: statSync(f).size, measured: table[relative(build, f)] }));
  const perByte = rows.filter((r) => r.measured !== undefined).map((r) => r.measured / r.bytes).sort((a, b) => a - b);
  const median = perByte.length > 0 ? perByte[perByte.length >> 1] : 1e-4;
  return new Map(rows.map((r) => [r.f, r.measured ?? r.bytes * median]));
}

// Groups balanced by cost: the costliest file goes to the lightest group.
export function groups(build = BUILD, count = GROUPS) {
  const clock = [];
  const fuzz = [];
  const shared = [];
  const files = sharedFiles(build);
  for (const f of files) (onFakeClock(f) ? clock : isFuzz(f) ? fuzz : shared).push(f);
  const cost = costs(files, build);
  const bins = Array.from({ length: count }, () => ({ serial: 0, cost: 0, files: [] }));
  const lightest = (a, b) => (b.serial < a.serial || (b.serial === a.serial && b.cost < a.cost) ? b : a);
  const sized = shared.map((f) => ({ f, cost: cost.get(f), serial: hasSerial(f) ? 1 : 0 }));
  for (const f of sized.sort((a, b) => b.serial - a.serial || b.cost - a.cost)) {
    const bin = f.serial ? bins.reduce(lightest) : bins.reduce((a, b) => (b.cost < a.cost ? b : a));
    bin.serial += f.serial;
    bin.cost += f.cost;
    bin.files.push(f.f);
  }
  const total = (files) => files.reduce((n, f) => n + cost.get(f), 0);
  // Costliest first: group-1 starts first (see startRank).
  return [clock, fuzz, ...bins.map((b) => b.files.sort())].sort((a, b) => total(b) - total(a));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = join(BUILD, 'test', 'fast');
  mkdirSync(dir, { recursive: true });
  const write = (path, files) => writeFileSync(path, `${files.map((f) => `import '${relative(dir, f)}';`).join('\n')}\n`);
  groups().forEach((files, i) => write(join(dir, `group-${i + 1}.test.js`), files));
  write(WAITING_FILE, testFiles().filter(isWaiting));
}
