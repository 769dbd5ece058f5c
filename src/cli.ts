import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError } from './core/errors.js';
import { loadFixture } from './harness/fixture.js';
import { DEFAULT_FIXTURE, packageRoot, resolveFixture } from './harness/fixture-path.js';
import { screenshotReport } from './harness/browser.js';
import { renderHtml } from './harness/html-report.js';
import { createProgress } from './harness/progress.js';
import { summaryText } from './harness/report.js';
import { runSoak } from './harness/soak.js';
import { runSoakChild } from './harness/soak-child.js';

/** Exit codes: every expectation held, one failed, bad fixture or arguments, a bug, interrupted (Ctrl-C: 128 + SIGINT). */
const EXIT = { OK: 0, EXPECTATION_FAILED: 1, BAD_INPUT: 2, INTERNAL: 3, INTERRUPTED: 130 } as const;

interface SoakFlags {
  target?: string;
  duration?: number;
  out: string;
  html?: boolean;
  screenshot?: boolean;
  seed?: number;
  model?: string;
  progress: boolean;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds > 0');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function httpUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be an http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('must be an http(s) URL');
  return value.replace(/\/+$/, '');
}

function version(): string {
  const root = packageRoot();
  if (root === undefined) return '0.0.0';
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

async function soak(fixtureArg: string | undefined, flags: SoakFlags): Promise<number> {
  const file = resolveFixture(fixtureArg ?? DEFAULT_FIXTURE);
  if (file === undefined) {
    process.stderr.write(`callpool soak: fixture '${fixtureArg ?? DEFAULT_FIXTURE}' not found (looked in the current folder and in the package's fixtures/)\n`);
    return EXIT.BAD_INPUT;
  }
  let fixture;
  try {
    fixture = loadFixture(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`callpool soak: invalid fixture ${file} (${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}):\n`);
    for (const i of err.issues) process.stderr.write(`  ${i.path || '/'}: ${i.message} [${i.rule}]\n`);
    return EXIT.BAD_INPUT;
  }

  const stop = new AbortController();
  const view = flags.progress ? createProgress(process.stderr) : undefined;
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(EXIT.INTERRUPTED);
    view?.clear();
    process.stderr.write('callpool soak: interrupted; finishing the calls in flight (press Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  let report;
  try {
    report = await runSoak({
      fixture,
      file: relative(process.cwd(), file) || file,
      ...(flags.target === undefined ? {} : { target: flags.target }),
      ...(flags.duration === undefined ? {} : { durationS: flags.duration }),
      ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      ...(flags.model === undefined ? {} : { model: flags.model }),
      ...(view === undefined ? {} : { onProgress: (p) => view.update(p) }),
      signal: stop.signal,
    });
  } catch (err) {
    view?.stop();
    if (err instanceof ConfigError) {
      process.stderr.write(`callpool soak: ${err.message}\n`);
      return EXIT.BAD_INPUT;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
  }
  view?.stop();

  mkdirSync(flags.out, { recursive: true });
  const base = join(flags.out, fixture.name.replace(/[^\w.-]+/g, '_'));
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${summaryText(report)}\n\nJSON report: ${base}.json\n`);
  if (flags.html || flags.screenshot) {
    writeFileSync(`${base}.html`, renderHtml(report));
    process.stdout.write(`HTML report: ${base}.html\n`);
  }
  if (flags.screenshot) {
    try {
      await screenshotReport(`${base}.html`, `${base}.png`);
      process.stdout.write(`Screenshot: ${base}.png\n`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`callpool soak: no screenshot: ${err.issues.map((i) => i.message).join('; ')}\n`);
      return EXIT.BAD_INPUT;
    }
  }
  if (report.interrupted) return EXIT.INTERRUPTED;
  return report.ok ? EXIT.OK : EXIT.EXPECTATION_FAILED;
}

/** The `callpool` command. Resolves with the exit code. */
async function main(argv: readonly string[] = process.argv): Promise<number> {
  let code: number = EXIT.OK;
  const program = new Command()
    .name('callpool')
    .description('Run API calls under hard limits; soak-test the setup against an embedded or real upstream.')
    .version(version())
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`callpool: ${str.replace(/^error: /, '')}`) });
  program
    .command('soak')
    .description('Run a soak fixture (default: fixtures/default.json) and report queue latency, memory and rate-limit accuracy.')
    .argument('[fixture]', 'fixture file (relative to the current folder, else one of the shipped fixtures by name)')
    .option('--target <url>', 'run against this OpenAI-compatible base URL instead of the embedded upstream (key from OPENAI_API_KEY)', httpUrl)
    .option('--duration <s>', "override the fixture's load duration (seconds)", positive)
    .option('--out <dir>', 'folder for the JSON (and HTML) report', 'soak-out')
    .option('--html', 'also write a self-contained HTML report with charts')
    .option('--screenshot', 'also write a PNG of the HTML report next to it (needs chromium and playwright-core)')
    .option('--seed <n>', "override the fixture's seed", integer)
    .option('--model <name>', "model name to send (for --target; overrides the fixture's)")
    .option('--no-progress', 'no live progress output')
    .action(async (fixture: string | undefined, flags: SoakFlags) => {
      code = await soak(fixture, flags);
    });
  // One process of a multi-process soak, started by `callpool soak` itself.
  program
    .command('soak-child', { hidden: true })
    .action(async () => {
      await runSoakChild();
    });
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander refuses is a bad argument.
      return err.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT;
    }
    throw err;
  }
  return code;
}

// This module is the command itself: run directly or imported by bin/callpool.js, it runs.
main().then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; this only guards against a stray handle keeping the process up.
    setTimeout(() => process.exit(code), 5000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`callpool: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT.INTERNAL);
  },
);
