import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { now } from '../core/clock.js';
import { LimiterUnavailableError } from '../core/errors.js';
import { Type } from '@sinclair/typebox';
import { MAX_WINDOW_MS, Ms } from '../core/bounds.js';
import { noop } from '../core/noop.js';
import { RedisStoreSchema, type RateWindow } from '../core/schemas.js';
import { assertConfig, compile } from '../core/validate.js';
import { MemoryLimiter, type MemoryTicket } from './memory-limiter.js';
import { ADMIT_SCRIPT, PAUSE_SCRIPT, RECONCILE_SCRIPT, RENEW_SCRIPT, SENT_SCRIPT, SYNC_SCRIPT } from './redis-scripts.js';
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
  /**
   * How long an admission whose send was not reported yet stays held in Redis without this
   * process renewing it (renewed every third of it while the process lives). Bounds what a
   * process that dies mid-call leaves behind: its held slots stop counting at most
   * `pendingLeaseMs + windowMs` later. @default 3000
   */
  pendingLeaseMs?: number;
}

// The Redis store's own options (a `limits.store` passes through whole), plus the lease.
const RedisLimiterOptionsSchema = Type.Object(
  {
    ...RedisStoreSchema.properties,
    kind: Type.Optional(Type.Literal('redis')),
    pendingLeaseMs: Type.Optional(Ms({ max: MAX_WINDOW_MS })),
  },
  { additionalProperties: false },
);
const validOptions = compile(RedisLimiterOptionsSchema, { lazy: true });

/** What an admission hands back: `at` is the Redis server's epoch ms (0 for a local admission). */
export interface RedisTicket {
  /** Where it was admitted: through Redis, or by the local limiter while Redis was away (fail-open). */
  readonly store: 'redis' | 'local';
  /** Its id in the Redis windows. */
  readonly seq: string;
  readonly at: number;
}

/** The ticket with what this process keeps about it. */
class SharedTicket implements RedisTicket {
  /** Known to Redis as it stands now (false after a local admission or a lost update). */
  synced: boolean;
  constructor(
    readonly store: 'redis' | 'local',
    readonly seq: string,
    readonly at: number,
    /** The same admission in the local mirror (which also applies pauses and provider limits). */
    readonly local: MemoryTicket,
  ) {
    this.synced = store === 'redis';
  }
}

type AdmitReply = [0, string, 'requests' | 'tokens' | 'paused'] | [1, string, string];

interface ScriptCommands {
  callpoolAdmit(...args: (string | number)[]): Promise<AdmitReply>;
  callpoolSent(...args: (string | number)[]): Promise<unknown>;
  callpoolRenew(...args: (string | number)[]): Promise<unknown>;
  callpoolSync(...args: (string | number)[]): Promise<unknown>;
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
 * key: never more than `limit` requests sent inside any rolling window, across all of them.
 * Each decision is one Lua script (see redis-scripts.ts) timed by Redis itself; a refusal
 * names the exact ms until the oldest entry in the way leaves its window, so nobody polls Redis.
 *
 * Every admission is also recorded in a local mirror with the same windows. While Redis is
 * away, `fail-open` admits under that mirror, so this process alone stays under the limit
 * across the switch; when Redis answers again, the process first writes its own admissions of
 * the last window there (and removes the ones whose answer was lost), so the switch back
 * holds too, and a Redis restarted empty still knows what this process just sent.
 *
 * Pause (a 429's retry-after) is shared through Redis as well; provider ceilings from response
 * headers (`observe`) stay local to the process that saw them.
 */
export class RedisLimiter implements Limiter {
  /** ioredis is imported when the first RedisLimiter is made, not when callpool is imported. */
  readonly #connecting: Promise<Redis>;
  #scripts!: ScriptCommands;
  readonly #requests: readonly RateWindow[];
  readonly #tokens: readonly RateWindow[];
  /** ADMIT / SYNC keys; SENT / RENEW keys (the same less the pause key). */
  readonly #keys: string[];
  readonly #windowKeys: string[];
  readonly #tokenKeys: string[];
  readonly #pauseKey: string;
  #windowArgs: (string | number)[] = [];
  #windowSpans: number[] = [];
  readonly #failOpen: boolean;
  readonly #local: MemoryLimiter;
  readonly #leaseMs: number;
  readonly #readyOnce: Promise<boolean>;
  readonly #idPrefix = randomBytes(6).toString('base64url');
  #ids = 0;
  #up = false;
  #everUp = false;
  #backoffMs = BACKOFF_FIRST_MS;
  /** After a failed or timed-out command, Redis is left alone until then (one probe per backoff). */
  #probeAt = 0;
  /** Redis may not know what this process did since a failure: sync before the next admission. */
  #dirty = false;
  /** Admissions whose reply never came: possibly written in Redis, never used here. */
  #lost: string[] = [];
  /** This process's admissions of the last window (and any still held), oldest first. */
  #recent: SharedTicket[] = [];
  /** Admissions held (not reported sent) and known to Redis: their leases are renewed. */
  readonly #held = new Set<SharedTicket>();
  #renewTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /** @throws ConfigError (`E_CONFIG`) naming each bad window or option */
  constructor(requests: readonly RateWindow[], tokens: readonly RateWindow[], options: RedisLimiterOptions) {
    this.#local = new MemoryLimiter(requests, tokens);
    assertConfig(validOptions, options, 'redis limiter');
    this.#requests = requests;
    this.#tokens = tokens;
    const base = `${options.prefix ?? 'callpool:'}{${options.key ?? 'default'}}`;
    this.#pauseKey = `${base}:pause`;
    this.#tokenKeys = tokens.flatMap((w) => [`${base}:t:${w.windowMs}`, `${base}:t:${w.windowMs}:amt`, `${base}:t:${w.windowMs}:sum`]);
    this.#windowKeys = [...requests.map((w) => `${base}:r:${w.windowMs}`), ...this.#tokenKeys];
    this.#keys = [this.#pauseKey, ...this.#windowKeys];
    this.#failOpen = options.onUnavailable === 'fail-open';
    this.#leaseMs = options.pendingLeaseMs ?? 3000;
    this.widen(0);
    const timeout = options.commandTimeoutMs ?? 500;
    this.#connecting = import('ioredis').then(({ Redis }) => this.#connect(new Redis(options.url, {
      // A command must fail fast while Redis is away, never wait in a queue to be replayed:
      // a replayed admission could be granted after the caller stopped waiting for it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: timeout,
      connectTimeout: Math.max(timeout, 1000),
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    })));
    this.#connecting.catch(noop);
    this.#readyOnce = this.#connecting.then((client) => firstReady(client, Math.max(timeout, 1000)), () => false);
  }

  #connect(client: Redis): Redis {
    client.on('ready', () => {
      this.#up = true;
      this.#everUp = true;
      this.#backoffMs = BACKOFF_FIRST_MS;
      this.#probeAt = 0;
    });
    client.on('close', () => {
      this.#up = false;
      // The server may come back empty (restarted): it must learn this process's admissions again.
      if (this.#everUp) this.#dirty = true;
    });
    // Connection errors surface as unavailability on acquire; without a listener they would crash the process.
    client.on('error', noop);
    client.defineCommand('callpoolAdmit', { lua: ADMIT_SCRIPT, numberOfKeys: this.#keys.length });
    client.defineCommand('callpoolSent', { lua: SENT_SCRIPT, numberOfKeys: this.#windowKeys.length });
    client.defineCommand('callpoolRenew', { lua: RENEW_SCRIPT, numberOfKeys: this.#windowKeys.length });
    client.defineCommand('callpoolSync', { lua: SYNC_SCRIPT, numberOfKeys: this.#keys.length });
    client.defineCommand('callpoolReconcile', { lua: RECONCILE_SCRIPT, numberOfKeys: this.#tokenKeys.length });
    client.defineCommand('callpoolPause', { lua: PAUSE_SCRIPT, numberOfKeys: 1 });
    this.#scripts = client as unknown as ScriptCommands;
    return client;
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
    const paused = this.#local.gate(tokens, t);
    if (paused > 0) return { admitted: false, retryInMs: paused + jitter(0), reason: 'paused' };
    if (!this.#up && !this.#everUp && !this.#closed) await this.#readyOnce;
    if (!this.#up || this.#closed || now() < this.#probeAt) return this.#unavailable(tokens);
    if (this.#dirty && !(await this.#sync())) return this.#unavailable(tokens);
    const member = `${this.#idPrefix}:${++this.#ids}`;
    let reply: AdmitReply;
    try {
      reply = await this.#scripts.callpoolAdmit(...this.#keys, this.#requests.length, this.#tokens.length, tokens, member, this.#leaseMs, ...this.#windowArgs);
    } catch {
      this.#lost.push(member);
      this.#failed();
      return this.#unavailable(tokens);
    }
    this.#backoffMs = BACKOFF_FIRST_MS;
    this.#probeAt = 0;
    if (reply[0] === 0) {
      const wait = Number(reply[1]);
      return { admitted: false, retryInMs: wait + jitter(wait), reason: reply[2] };
    }
    const ticket = new SharedTicket('redis', member, Number(reply[2]), this.#local.record(tokens, now()));
    this.#remember(ticket);
    this.#held.add(ticket);
    this.#armRenewal();
    return { admitted: true, ticket };
  }

  /** A ticket waits for its send report until the first one (see `Limiter.holds`). */
  holds(ticket: Ticket): boolean {
    return ticket instanceof SharedTicket && ticket.local.sentAt === undefined;
  }

  /**
   * The request of `ticket` left at `at` (monotonic, this process): the local mirror places it
   * there, and Redis at its own clock's now less the time since `at`, never before the
   * admission. If Redis cannot be told, the member stays held there until the next sync.
   */
  async sent(ticket: Ticket, at: number): Promise<void> {
    if (!(ticket instanceof SharedTicket) || ticket.local.sentAt !== undefined) return;
    this.#local.sent(ticket.local, at);
    this.#held.delete(ticket);
    if (!ticket.synced || !this.#up) {
      ticket.synced = false;
      this.#dirty = true;
      return;
    }
    const ago = Math.max(0, now() - ticket.local.sentAt!);
    try {
      await this.#scripts.callpoolSent(...this.#windowKeys, this.#requests.length, ticket.seq, ago, ticket.at, ...this.#windowSpans);
    } catch {
      ticket.synced = false;
      this.#failed();
    }
  }

  async reconcile(ticket: Ticket, actualTokens: number): Promise<void> {
    if (!(ticket instanceof SharedTicket) || !Number.isFinite(actualTokens) || actualTokens < 0 || this.#tokens.length === 0) return;
    this.#local.reconcile(ticket.local, actualTokens);
    if (!ticket.synced || !this.#up) {
      ticket.synced = false;
      this.#dirty = true;
      return;
    }
    try {
      await this.#scripts.callpoolReconcile(...this.#tokenKeys, ticket.seq, actualTokens);
    } catch {
      // The entry keeps its estimate until the next sync: the limit stays safe, only less exact.
      ticket.synced = false;
      this.#failed();
    }
  }

  /**
   * Sets a guard band of `ms` on every window, here and in what this process asks of Redis.
   * Processes sharing a key should use the same guard: the one that prunes with the shortest
   * window decides when an entry leaves it.
   */
  widen(ms: number): void {
    const g = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#local.widen(g);
    this.#windowArgs = [...this.#requests, ...this.#tokens].flatMap((w) => [w.limit, w.windowMs + g]);
    this.#windowSpans = [...this.#requests, ...this.#tokens].map((w) => w.windowMs + g);
  }

  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.#local.pause(ms);
    this.pauseShared(ms).catch(noop);
  }

  /** Extends the pause in Redis, for every process; resolves once Redis has it (rejects if unreachable). */
  async pauseShared(ms: number): Promise<void> {
    if (!(ms > 0)) return;
    if (!this.#up && !this.#everUp && !this.#closed) await this.#readyOnce;
    if (!this.#up) throw new LimiterUnavailableError('the shared rate limiter is unreachable; the pause holds in this process only');
    await this.#scripts.callpoolPause(this.#pauseKey, Math.ceil(ms));
  }

  observe(limits: ProviderLimits, ticket?: Ticket): void {
    this.#local.observe(limits, ticket instanceof SharedTicket ? ticket.local : undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#up = false;
    clearTimeout(this.#renewTimer);
    const client = await this.#connecting.catch(() => undefined);
    if (client === undefined) return;
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  }

  /** Redis is unreachable: admit locally (fail-open) or ask the executor to come back later. */
  #unavailable(tokens: number): Acquisition {
    if (this.#failOpen && !this.#closed) {
      const got = this.#local.acquire(tokens);
      if (got.admitted) {
        const ticket = new SharedTicket('local', `${this.#idPrefix}:${++this.#ids}`, 0, got.ticket as MemoryTicket);
        this.#remember(ticket);
        this.#dirty = true;
        return { admitted: true, ticket };
      }
      // Ask again soon even when the local window says later: Redis may be back by then, with room.
      return { admitted: false, retryInMs: Math.min(got.retryInMs, this.#nextBackoff()), reason: got.reason };
    }
    return { admitted: false, retryInMs: this.#nextBackoff(), reason: 'unavailable' };
  }

  #failed(): void {
    this.#dirty = true;
    this.#probeAt = now() + this.#backoffMs;
  }

  #remember(ticket: SharedTicket): void {
    this.#prune();
    this.#recent.push(ticket);
  }

  /** Drops tickets placed longer ago than the longest window (they count nowhere any more). */
  #prune(): void {
    const span = Math.max(0, ...this.#windowSpans);
    const edge = now() - span;
    let n = 0;
    for (const tk of this.#recent) {
      const at = tk.local.sentAt;
      if (at === undefined || at > edge) break;
      n++;
    }
    if (n > 0) this.#recent.splice(0, n);
  }

  /** Writes this process's recent admissions to Redis as they stand; true once Redis has them. */
  async #sync(): Promise<boolean> {
    this.#prune();
    const entries = this.#recent;
    const lost = this.#lost;
    const t = now();
    const args: (string | number)[] = [];
    for (const tk of entries) {
      const sentAt = tk.local.sentAt;
      args.push(tk.seq, sentAt === undefined ? -1 : Math.max(0, t - sentAt), tk.at, tk.local.tokens);
    }
    try {
      await this.#scripts.callpoolSync(...this.#keys, this.#requests.length, this.#tokens.length, this.#leaseMs, entries.length, lost.length, ...this.#windowArgs, ...args, ...lost);
    } catch {
      this.#failed();
      return false;
    }
    this.#dirty = false;
    this.#lost = this.#lost.slice(lost.length);
    for (const tk of entries) {
      tk.synced = true;
      if (tk.local.sentAt === undefined) this.#held.add(tk);
    }
    this.#armRenewal();
    return true;
  }

  /** While admissions are held, renews their leases every third of a lease. */
  #armRenewal(): void {
    if (this.#renewTimer !== undefined || this.#held.size === 0 || this.#closed) return;
    this.#renewTimer = setTimeout(() => {
      this.#renewTimer = undefined;
      const members = [...this.#held].map((tk) => tk.seq);
      if (members.length === 0) return;
      if (this.#up) {
        this.#scripts.callpoolRenew(...this.#windowKeys, this.#requests.length, this.#leaseMs, ...this.#windowSpans, ...members).catch(() => this.#failed());
      }
      this.#armRenewal();
    }, this.#leaseMs / 3);
    this.#renewTimer.unref();
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
