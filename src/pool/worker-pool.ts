import { availableParallelism } from 'node:os';
import { ConfigError } from '../core/errors.js';
import { validPoolConfig } from '../core/config.js';
import type { PoolConfig } from '../core/schemas.js';
import { assertConfig } from '../core/validate.js';
import { ChannelPool, type WorkerBackend } from './channel-pool.js';
import type { HostOptions, WorkerHost } from './worker-host.js';

/**
 * A worker pool on piscina or tinypool. The host library and the result codec (msgpackr) are
 * imported here on first use, not when callpool is imported: a program that runs inline, or
 * on the other host, never loads them.
 * @example workerPool({ kind: 'piscina', threads: 2 })
 * @throws ConfigError (`E_CONFIG`) naming each bad field of `config`
 */
export function workerPool(config: Partial<PoolConfig> & { kind: 'piscina' | 'tinypool' }): ChannelPool {
  assertConfig(validPoolConfig, config, 'worker pool');
  if ((config.kind as string) === 'inline') throw new ConfigError('worker pool', [{ path: '/kind', rule: 'enum', message: "must be 'piscina' or 'tinypool' (the inline pool is new InlinePool())" }]);
  const threads = config.threads ?? Math.max(1, availableParallelism());
  const options: HostOptions = { threads, execArgv: config.execArgv, maxHeapMb: config.maxHeapMb };
  const host: Promise<WorkerHost> =
    config.kind === 'tinypool' ? import('./tinypool-host.js').then((m) => m.tinypoolHost(options)) : import('./piscina-host.js').then((m) => m.piscinaHost(options));
  const backend: Promise<WorkerBackend> = Promise.all([host, import('./codec.js')]).then(([h, codec]) => ({ host: h, decode: codec.unpack }));
  return new ChannelPool(config.kind, backend, { threads, streamCredit: config.streamCredit, abortGraceMs: config.abortGraceMs, idleSpinUs: config.idleSpinUs });
}

type WorkerPoolConstructor = new (config?: Partial<Omit<PoolConfig, 'kind'>>) => ChannelPool;

/** `new PiscinaPool({ threads })`: the piscina worker pool (kept for code written before `workerPool`). */
export const PiscinaPool = function PiscinaPool(config: Partial<Omit<PoolConfig, 'kind'>> = {}) {
  return workerPool({ ...config, kind: 'piscina' });
} as unknown as WorkerPoolConstructor;

/** `new TinypoolPool({ threads })`: the tinypool worker pool (kept for code written before `workerPool`). */
export const TinypoolPool = function TinypoolPool(config: Partial<Omit<PoolConfig, 'kind'>> = {}) {
  return workerPool({ ...config, kind: 'tinypool' });
} as unknown as WorkerPoolConstructor;
