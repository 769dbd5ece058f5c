import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { SoakReport } from '../../src/harness/report.js';
import { redisTest } from '../helpers/redis-test.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const rtest = redisTest();

const run = (args: string[], env?: NodeJS.ProcessEnv) => runCli(args, env === undefined ? {} : { env });


/** Whether a redis-server on this port is still running (redis shows `host:port` in its process title). */
function redisRunningOn(port: string): boolean {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').some((line) => line.includes('redis-server') && (line.includes(`:${port}`) || line.includes(`--port ${port}`)));
}

rtest.serial('soak: the shipped redis-shared fixture runs two processes against one spawned Redis, judged by the upstream', async (t) => {
  const dir = tempDir(t, 'soak-redis');
  const r = await run(['soak', 'redis-shared', '--duration', '3', '--out', dir, '--no-progress']);
  t.true(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
  const report = JSON.parse(readFileSync(join(dir, 'redis-shared.json'), 'utf8')) as SoakReport;
  t.is(r.code, report.ok ? 0 : 1);
  t.is(report.processes?.count, 2);
  t.is(report.processes?.perProcess.length, 2);
  for (const p of report.processes!.perProcess) {
    t.true(p.calls.completed > 0, `process ${p.index} completed calls`);
    t.true(p.memory.peakRssMb > 0, `process ${p.index} measured its memory`);
  }
  t.is(report.calls.offered, report.processes!.perProcess.reduce((a, p) => a + p.calls.offered, 0), 'offered calls add up');
  t.is(report.calls.offered, report.calls.completed + report.calls.failed + report.calls.cancelled + report.calls.refused);
  t.is(report.target.kind, 'mock');
  t.is(report.rate?.source, 'upstream-arrivals');
  t.is(report.rate?.limit, 50);
  t.is(report.rate?.observed, report.upstream!.requests.chat, 'every request the upstream saw is judged, the warm-up calls (the cold start) included');
  t.is(report.ok, report.expectations.every((e) => e.held !== false));
  const port = /redis-server started for the run \(redis:\/\/127\.0\.0\.1:(\d+)\)/.exec(report.notes.join('\n'))?.[1];
  t.truthy(port, 'the report names the spawned redis-server');
  t.false(redisRunningOn(port!), 'the spawned redis-server was stopped');
  const failed = report.expectations.filter((e) => e.held === false);
  if (failed.length > 0) t.log(`expectations that failed in a 3 s run: ${failed.map((e) => `${e.name} by ${e.by} ${e.unit}`).join(', ')}`);
});

test.serial('soak: a "spawn" Redis store without redis-server on the PATH exits with 2 and says what to install', async (t) => {
  const dir = tempDir(t, 'soak-redis');
  const file = join(dir, 'needs-redis.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'needs-redis',
      processes: 2,
      executor: { limits: { requests: { limit: 10, windowMs: 1000 }, store: { kind: 'redis', url: 'spawn' } } },
      load: { durationS: 1, rate: 5 },
    }),
  );
  const r = await run(['soak', file, '--out', dir, '--no-progress'], { ...process.env, PATH: join(dir, 'no-bin') });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /apt-get install -y redis-server/);
});
