import { Redis } from 'ioredis';
import { now } from '../core/clock.js';
import { LimiterUnavailableError } from '../core/errors.js';
import type { RateWindow } from '../core/schemas.js';
import { MemoryLimiter } from './memory-limiter.js';
import { ADMIT_SCRIPT, PAUSE_SCRIPT, RECONCILE_SCRIPT } from './redis-scripts.js';
import { ProviderCeiling } from './provider-ceiling.js';
import { assertTokensFit } from './token-fit.js';
import type { Acquisition, Limiter, ProviderLimits, Ticket } from './types.js';

export interface RedisLimiterOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Prepended to every key. @default 'callpool:' */
  prefix?: string;
  /** Names the shared limit: every process using the same prefix and key shares it. @default 'default' */
  key?: string;
  /**
   * While Redis is unreachable: `fail-closed` keeps calls waiting (they fail with
   * `E_LIMITER_UNAVAILABLE` when their deadline passes); `fail-open` admits them under a
   * limiter local to this process until Redis is back. @default 'fail-closed'
   */
  onUnavailable?: 'fail-closed' | 'fail-open';
  /** A command slower than this counts as Redis being unavailable. @default 500 */
  commandTimeoutMs?: number;
}

/** What an admission through Redis hands back; `at` is the Redis server's epoch ms. */
export interface RedisTicket {
  readonly store: 'redis';
  readonly seq: string;
  readonly at: number;
}

interface LocalTicket {
  readonly store: 'local';
  readonly ticket: Ticket;
}

type AdmitReply = [0, string, 'requests' | 'tokens' | 'paused'] | [1, string, string];

interface ScriptCommands {
  callpoolAdmit(...args: (string | number)[]): Promise<AdmitReply>;
  callpoolReconcile(...args: (string | number)[]): Promise<unknown>;
  callpoolPause(...args: (string | number)[]): Promise<unknown>;
}

/** Jitter added to every wait so processes refused together do not return together. */
const JITTER_MAX_MS = 4;
/** Retry delays while Redis is unreachable (fail-closed): doubling from the first to the last. */
const BACKOFF_FIRST_MS = 25;
const BACKOFF_MAX_MS = 1000;

/**
 * Request and token windows shared by every process (and host) that points at the same Redis
 * key: never more than `limit` admissions inside any rolling window, across all of them. Each
 * decision is one Lua script (see redis-scripts.ts) timed by Redis itself; a refusal names the
 * exact ms until the oldest entry in the way leaves its window, so nobody polls Redis.
 *
 * Pause (a 429's retry-after) is shared through Redis as well; provider ceilings from response
 * headers (`observe`) stay local to the process that saw them.
 */
export class RedisLimiter implements Limiter {
  readonly #client: Redis;
  readonly #scripts: ScriptCommands;
  readonly #requests: readonly RateWindow[];
  readonly #tokens: readonly RateWindow[];
  readonly #keys: string[];
  readonly #tokenKeys: string[];
  readonly #pauseKey: string;
  readonly #fixedArgs: (string | number)[];
  readonly #fallback: MemoryLimiter | undefined;
  readonly #readyOnce: Promise<boolean>;
  #up = false;
  #everUp = false;
  #backoffMs = BACKOFF_FIRST_MS;
  /** After a failed or timed-out command, Redis is left alone until then (one probe per backoff). */
  #probeAt = 0;
  #pausedUntil = 0;
  readonly #provider = new ProviderCeiling();
  #closed = false;

  constructor(requests: readonly RateWindow[], tokens: readonly RateWindow[], options: RedisLimiterOptions) {
    this.#requests = requests;
    this.#tokens = tokens;
    const base = `${options.prefix ?? 'callpool:'}{${options.key ?? 'default'}}`;
    this.#pauseKey = `${base}:pause`;
    this.#tokenKeys = tokens.flatMap((w) => [`${base}:t:${w.windowMs}`, `${base}:t:${w.windowMs}:amt`, `${base}:t:${w.windowMs}:sum`]);
    this.#keys = [this.#pauseKey, `${base}:seq`, ...requests.map((w) => `${base}:r:${w.windowMs}`), ...this.#tokenKeys];
    this.#fixedArgs = [...requests, ...tokens].flatMap((w) => [w.limit, w.windowMs]);
    this.#fallback = options.onUnavailable === 'fail-open' ? new MemoryLimiter(requests, tokens) : undefined;
    const timeout = options.commandTimeoutMs ?? 500;
    this.#client = new Redis(options.url, {
      // A command must fail fast while Redis is away, never wait in a queue to be replayed:
      // a replayed admission could be granted after the caller stopped waiting for it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: timeout,
      connectTimeout: Math.max(timeout, 1000),
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    });
    this.#client.on('ready', () => {
      this.#up = true;
      this.#everUp = true;
      this.#backoffMs = BACKOFF_FIRST_MS;
      this.#probeAt = 0;
    });
    this.#client.on('close', () => (this.#up = false));
    // Connection errors surface as unavailability on acquire; without a listener they would crash the process.
    this.#client.on('error', noop);
    this.#client.defineCommand('callpoolAdmit', { lua: ADMIT_SCRIPT, numberOfKeys: this.#keys.length });
    this.#client.defineCommand('callpoolReconcile', { lua: RECONCILE_SCRIPT, numberOfKeys: this.#tokenKeys.length });
    this.#client.defineCommand('callpoolPause', { lua: PAUSE_SCRIPT, numberOfKeys: 1 });
    this.#scripts = this.#client as unknown as ScriptCommands;
    this.#readyOnce = firstReady(this.#client, Math.max(timeout, 1000));
  }

  /** Whether the last word from Redis was that it is reachable. */
  get connected(): boolean {
    return this.#up;
  }

  check(tokens: number): void {
    assertTokensFit(tokens, this.#tokens);
  }

  async acquire(tokens: number): Promise<Acquisition> {
    const t = now();
    if (t < this.#pausedUntil) return { admitted: false, retryInMs: this.#pausedUntil - t + jitter(0), reason: 'paused' };
    const provider = this.#provider.wait(tokens, t);
    if (provider > 0) return { admitted: false, retryInMs: provider + jitter(0), reason: 'paused' };
    if (!this.#up && !this.#everUp && !this.#closed) await this.#readyOnce;
    if (!this.#up || this.#closed || t < this.#probeAt) return this.#unavailable(tokens);
    let reply: AdmitReply;
    try {
      reply = await this.#scripts.callpoolAdmit(...this.#keys, this.#requests.length, this.#tokens.length, tokens, ...this.#fixedArgs);
    } catch {
      this.#probeAt = now() + this.#backoffMs;
      return this.#unavailable(tokens);
    }
    this.#backoffMs = BACKOFF_FIRST_MS;
    this.#probeAt = 0;
    if (reply[0] === 0) {
      const wait = Number(reply[1]);
      return { admitted: false, retryInMs: wait + jitter(wait), reason: reply[2] };
    }
    this.#provider.admitted({ reqSeq: 0, tokSeq: 0, charged: tokens, at: t, sentAt: t, providerHeld: false });
    const ticket: RedisTicket = { store: 'redis', seq: reply[1], at: Number(reply[2]) };
    return { admitted: true, ticket };
  }

  async reconcile(ticket: Ticket, actualTokens: number): Promise<void> {
    if (!Number.isFinite(actualTokens) || actualTokens < 0 || this.#tokens.length === 0) return;
    const tk = ticket as RedisTicket | LocalTicket | undefined;
    if (tk?.store === 'local') return this.#fallback?.reconcile(tk.ticket, actualTokens);
    if (tk?.store !== 'redis' || !this.#up) return;
    try {
      await this.#scripts.callpoolReconcile(...this.#tokenKeys, tk.seq, actualTokens);
    } catch {
      // The entry keeps its estimate: the limit stays safe, only less exact.
    }
  }

  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, now() + ms);
    this.#fallback?.pause(ms);
    this.pauseShared(ms).catch(noop);
  }

  /** Extends the pause in Redis, for every process; resolves once Redis has it (rejects if unreachable). */
  async pauseShared(ms: number): Promise<void> {
    if (!(ms > 0)) return;
    if (!this.#up && !this.#everUp && !this.#closed) await this.#readyOnce;
    if (!this.#up) throw new LimiterUnavailableError('the shared rate limiter is unreachable; the pause holds in this process only');
    await this.#scripts.callpoolPause(this.#pauseKey, Math.ceil(ms));
  }

  observe(limits: ProviderLimits): void {
    this.#provider.observe(limits, now(), undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#up = false;
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }

  /** Redis is unreachable: admit locally (fail-open) or ask the executor to come back later. */
  #unavailable(tokens: number): Acquisition {
    if (this.#fallback !== undefined && !this.#closed) {
      const got = this.#fallback.acquire(tokens);
      if (got.admitted) {
        const ticket: LocalTicket = { store: 'local', ticket: got.ticket };
        return { admitted: true, ticket };
      }
      // Ask again soon even when the local window says later: Redis may be back by then, with room.
      return { admitted: false, retryInMs: Math.min(got.retryInMs, this.#nextBackoff()), reason: got.reason };
    }
    return { admitted: false, retryInMs: this.#nextBackoff(), reason: 'unavailable' };
  }

  #nextBackoff(): number {
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs * 2);
    return wait + jitter(wait);
  }

}

/** A small positive delay: a few percent of the wait, at most JITTER_MAX_MS. */
function jitter(waitMs: number): number {
  return Math.random() * Math.min(JITTER_MAX_MS, 0.25 + waitMs * 0.05);
}

/** Resolves true at the first `ready`, false after `ms` or on the first failed connection attempt. */
function firstReady(client: Redis, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('close', onClose);
      resolve(ok);
    };
    const onReady = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    timer.unref();
    client.once('ready', onReady);
    client.once('close', onClose);
  });
}

function noop(): void {}
