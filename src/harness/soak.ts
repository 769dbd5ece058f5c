import { ConfigError } from '../core/errors.js';
import { isRedisAvailable, REDIS_INSTALL_HINT, startRedis, type RedisServer } from './redis-server.js';
import type { SoakReport } from './report.js';
import { SPAWN_REDIS } from './soak-common.js';
import { runProcesses } from './soak-processes.js';
import { runInProcess } from './soak-run.js';
import type { SoakOptions } from './soak-types.js';

export type { SoakOptions, SoakProgress, SoakRaw } from './soak-types.js';
export { runInProcess } from './soak-run.js';

/**
 * Runs a fixture end to end and returns its report (the caller prints and writes it): in this
 * process, or across `fixture.processes` OS processes. A Redis store whose url is `"spawn"`
 * gets a throwaway redis-server for the run.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const store = opts.fixture.executor?.limits?.store;
  let redis: RedisServer | undefined;
  let fixture = opts.fixture;
  if (store?.kind === 'redis' && store.url === SPAWN_REDIS) {
    if (!isRedisAvailable()) {
      throw new ConfigError('limiter store', [
        { path: '/executor/limits/store/url', rule: 'redis-server', message: `"${SPAWN_REDIS}" needs redis-server on the PATH; install it with: ${REDIS_INSTALL_HINT}` },
      ]);
    }
    redis = await startRedis();
    fixture = { ...fixture, executor: { ...fixture.executor, limits: { ...fixture.executor!.limits, store: { ...store, url: redis.url } } } };
  }
  try {
    const run = (fixture.processes ?? 1) > 1 ? runProcesses : runInProcess;
    const report = await run({ ...opts, fixture });
    if (redis !== undefined) report.notes.push(`the limiter store was a redis-server started for the run (${redis.url})`);
    return report;
  } finally {
    await redis?.stop();
  }
}
