import { CallContext } from '../core/call-context.js';
import { ClosedError, ConfigError, ValidationError } from '../core/errors.js';
import { resolveConfig, validPoolConfig, type ExecutorConfig } from '../core/config.js';
import { LimitsSchema, type LimitsConfig, type PoolConfig } from '../core/schemas.js';
import { compile } from '../core/validate.js';
import type { CallStream } from '../executor/call-stream.js';
import { Executor } from '../executor/executor.js';
import type { ExecutorStats } from '../executor/executor-stats.js';
import { circuitBreaker } from '../middleware/circuit-breaker.js';
import { metrics, type MetricsMiddleware } from '../middleware/metrics.js';
import { policyGate } from '../middleware/policy-gate.js';
import { redaction } from '../middleware/redaction.js';
import { retry, type RetryOptions } from '../middleware/retry.js';
import type { Middleware } from '../middleware/types.js';
import { telemetry, type TelemetryOptions } from '../telemetry/telemetry.js';
import type { Message, MessageEvent, MessagesRequest } from '../services/anthropic-schemas.js';
import type { JsonRequest } from '../services/json-service.js';
import type { ChatChunk, ChatCompletion, ChatRequest } from '../services/openai-schemas.js';
import { envValue } from '../services/provider-options.js';
import type { AnyService, ProviderAdapter } from './adapter.js';
import { resolveModel } from './registry.js';

export interface ModelOptions {
  /** @default the adapter's variable: `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `GROQ_API_KEY`, ... */
  apiKey?: string;
  /** @default the adapter's variable (`OPENAI_BASE_URL`, ...), else the provider's API */
  baseURL?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** @default the provider's documented limits for a new account; `false`: none */
  limits?: LimitsConfig | false;
  /** @default 8 */
  concurrency?: number;
  /** @default 1000 */
  queueCapacity?: number;
  /** @default { kind: 'piscina', threads: 2 } */
  pool?: PoolConfig;
  /** Deadline of a call that gives none, ms. @default 120_000 */
  timeoutMs?: number;
  /** HTTP timeout of one attempt (whole call, or until a stream's headers). @default 60_000 */
  attemptTimeoutMs?: number;
  /** Options of the `retry` layer; `false`: no retries. @default { maxAttempts: 3 } */
  retry?: RetryOptions | false;
  /** OpenTelemetry spans and metrics (a no-op without `@opentelemetry/api`); `false`: none. @default true */
  telemetry?: boolean | TelemetryOptions;
  /** Replaces the default middleware (the recommended order, see `defaultMiddleware`). */
  middleware?: readonly Middleware[];
  /**
   * Run on this executor instead of one of the handle's own (several handles, one queue, one
   * concurrency limit, one rate limit). The handle does not close it.
   */
  executor?: Executor;
  /** Branch id of the calls' contexts. @default 'model' */
  branchId?: string;
}

/** Per-call options of `chat`/`invoke`/`stream`. */
export interface CallOptions {
  /** Relative deadline, ms. @default the handle's `timeoutMs` */
  timeoutMs?: number;
  /** Absolute deadline on the `performance.now()` clock (wins over `timeoutMs`). */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** Capabilities granted to this call. @default what the service requires (`net.out:<host>`) */
  capabilities?: readonly string[];
  branchId?: string;
  attrs?: Record<string, unknown>;
}

/** A handle saved with `toJSON()`: everything but the key (and what is not data: middleware, a shared executor). */
export interface ModelData {
  kind: 'callpool/model@1';
  id: string;
  provider: string;
  model: string;
  baseURL?: string;
  headers?: Record<string, string>;
  limits: LimitsConfig | false;
  concurrency: number;
  queueCapacity: number;
  pool: PoolConfig;
  timeoutMs: number;
  attemptTimeoutMs: number;
  retry: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; factor?: number } | false;
  telemetry: boolean;
  branchId: string;
}

const SECRET_HEADER = /auth|key|token|secret|cookie|password/i;

/**
 * One model behind one object: `model('openai/gpt-4o-mini')` resolves the provider, takes the
 * key from the environment, and owns an executor with the provider's limits, the recommended
 * middleware and a piscina pool of 2 threads. `chat`/`invoke` and `stream` take plain requests.
 */
export class Model<Req = Record<string, unknown>, Res = unknown, Chunk = unknown> {
  readonly id: string;
  readonly provider: string;
  readonly model: string;
  /** The service calls go to (its `requires` are the capabilities a call needs). */
  readonly service: AnyService;
  /** The `metrics()` layer of the default middleware (Prometheus text), when the default is used. */
  readonly metrics: MetricsMiddleware | undefined;
  readonly #adapter: ProviderAdapter;
  readonly #data: ModelData;
  /** A shared executor, or the handle's own once a call (or a read of `executor`) made it. */
  #executor: Executor | undefined;
  /** What the handle's own executor is made from; undefined with a shared one. */
  readonly #config: ExecutorConfig<Middleware> | undefined;
  #closing: Promise<void> | undefined;

  constructor(id: string, options: ModelOptions = {}) {
    checkOptions(options);
    const { adapter, model } = resolveModel(id, options.baseURL);
    this.#adapter = adapter;
    this.id = id.startsWith(`${adapter.name}/`) ? id : `${adapter.name}/${model}`;
    this.provider = adapter.name;
    this.model = model;
    const env = process.env;
    const apiKey = options.apiKey ?? envValue(env, adapter.apiKeyEnv);
    const baseURL = options.baseURL ?? envValue(env, adapter.baseURLEnv) ?? adapter.defaultBaseURL;
    const attemptTimeoutMs = options.attemptTimeoutMs ?? 60_000;
    this.service = adapter.service({ model, apiKey, baseURL, headers: { ...options.headers }, timeoutMs: attemptTimeoutMs });
    const limits = options.limits ?? adapter.defaultLimits?.(model) ?? false;
    const retryOptions = options.retry ?? { maxAttempts: 3 };
    const tel = options.telemetry ?? true;
    this.#data = {
      kind: 'callpool/model@1',
      id: this.id,
      provider: adapter.name,
      model,
      ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
      ...(options.headers === undefined ? {} : { headers: publicHeaders(options.headers) }),
      limits: limits === false ? false : withoutCredentials(limits),
      concurrency: options.concurrency ?? 8,
      queueCapacity: options.queueCapacity ?? 1000,
      pool: options.pool ?? { kind: 'piscina', threads: 2 },
      timeoutMs: options.timeoutMs ?? 120_000,
      attemptTimeoutMs,
      retry: retryOptions === false ? false : pickRetry(retryOptions),
      telemetry: tel !== false,
      branchId: options.branchId ?? 'model',
    };
    if (options.executor !== undefined) {
      this.#executor = options.executor;
      this.metrics = undefined;
      this.#config = undefined;
    } else {
      let mw = options.middleware;
      let m: MetricsMiddleware | undefined;
      if (mw === undefined) {
        m = metrics();
        mw = defaultMiddleware({ metrics: m, retry: retryOptions, telemetry: tel === false ? false : { provider: adapter.name, model, ...(tel === true ? {} : tel) } });
      }
      this.metrics = m;
      this.#config = {
        concurrency: this.#data.concurrency,
        queueCapacity: this.#data.queueCapacity,
        pool: this.#data.pool,
        middleware: mw,
        ...(limits === false ? {} : { limits }),
      };
      // Refused now if it ever would be; its pool's threads (and a Redis connection) wait for use.
      resolveConfig(this.#config);
    }
  }

  /**
   * The executor calls run on: a shared one, or the handle's own, made on first use so that a
   * handle nobody calls starts no worker threads. The handle's own is made closed after `close()`.
   */
  get executor(): Executor {
    if (this.#executor === undefined) {
      // Read after close(): a closed executor with nothing to start (no worker threads to end).
      this.#executor = new Executor(this.#closing === undefined ? this.#config! : { ...this.#config!, pool: { kind: 'inline' } });
      if (this.#closing !== undefined) void this.#executor.close();
    }
    return this.#executor;
  }

  /** Sends one request and resolves with the provider's response (validated), exactly once. */
  chat(request: Req, options: CallOptions = {}): Promise<Res> {
    try {
      return this.executor.call(this.service, request, this.#ctx(options, request), options.signal === undefined ? undefined : { signal: options.signal }) as Promise<Res>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The same as `chat`. */
  invoke(request: Req, options: CallOptions = {}): Promise<Res> {
    return this.chat(request, options);
  }

  /** Streams the response: OpenAI chunks, Anthropic events, ... as the provider sends them. */
  stream(request: Req, options: CallOptions = {}): CallStream<Chunk> {
    if (this.#adapter.streams === false) throw new ValidationError('request', [{ path: '/', rule: 'stream', message: `provider '${this.provider}' does not stream; use chat()` }]);
    return this.executor.stream(this.service, request, this.#ctx(options, request), options.signal === undefined ? undefined : { signal: options.signal }) as CallStream<Chunk>;
  }

  stats(): ExecutorStats {
    return this.executor.stats();
  }

  /** Drains and closes the handle's own executor (a shared one is left open). Idempotent. */
  close(): Promise<void> {
    // Nothing to close when the handle never made its own executor, or runs on a shared one.
    this.#closing ??= this.#config !== undefined && this.#executor !== undefined ? this.#executor.close() : Promise.resolve();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Plain data that `Model.fromJSON` rebuilds the handle from; never the key. */
  toJSON(): ModelData {
    return structuredClone(this.#data);
  }

  /**
   * Rebuilds a handle from `toJSON()` data. The key comes from the environment again (or
   * `extra.apiKey`); middleware and a shared executor are not data: pass them in `extra`.
   */
  static fromJSON<Req = Record<string, unknown>, Res = unknown, Chunk = unknown>(data: ModelData, extra: Pick<ModelOptions, 'apiKey' | 'middleware' | 'executor'> = {}): Model<Req, Res, Chunk> {
    if (typeof data !== 'object' || data === null || data.kind !== 'callpool/model@1') {
      throw new ConfigError('model data', [{ path: '/kind', rule: 'const', message: "must be 'callpool/model@1' (the output of model.toJSON())" }]);
    }
    const { id, baseURL, headers, limits, concurrency, queueCapacity, pool, timeoutMs, attemptTimeoutMs, retry: r, telemetry: tel, branchId } = data;
    return new Model<Req, Res, Chunk>(id, {
      ...(baseURL === undefined ? {} : { baseURL }),
      ...(headers === undefined ? {} : { headers }),
      limits,
      concurrency,
      queueCapacity,
      pool,
      timeoutMs,
      attemptTimeoutMs,
      retry: r,
      telemetry: tel,
      branchId,
      ...extra,
    });
  }

  /** By default a call is granted what its service requires of it (the handle's own provider host). */
  #ctx(o: CallOptions, request: Req): CallContext {
    if ((this.#config !== undefined && this.#closing !== undefined) || this.executor.closed) throw new ClosedError(`model '${this.id}' is closed`);
    let granted = o.capabilities;
    if (granted === undefined) {
      granted = this.service.requires;
      if (this.service.rights !== undefined) {
        try {
          granted = [...granted, ...this.service.rights(request)];
        } catch {
          // a request the rights cannot be read from fails its schema check in the executor
        }
      }
    }
    return CallContext.new(o.branchId ?? this.#data.branchId, {
      ...(o.deadlineMs === undefined ? { timeoutMs: o.timeoutMs ?? this.#data.timeoutMs } : { deadlineMs: o.deadlineMs }),
      capabilities: [...granted],
      ...(o.attrs === undefined ? {} : { attrs: o.attrs }),
    });
  }
}

/**
 * The recommended order, outermost first: redaction, metrics, telemetry (one span per call),
 * policyGate, circuitBreaker (counts a call once, after its retries), retry, telemetry's
 * per-attempt layer (one child span per attempt).
 */
export function defaultMiddleware(o: { metrics?: MetricsMiddleware; retry?: RetryOptions | false; telemetry?: TelemetryOptions | false } = {}): Middleware[] {
  const t = o.telemetry === false ? undefined : telemetry(o.telemetry ?? {});
  const out: Middleware[] = [redaction(), o.metrics ?? metrics()];
  if (t !== undefined) out.push(t);
  out.push(policyGate(), circuitBreaker());
  if (o.retry !== false) out.push(retry(o.retry ?? {}));
  if (t !== undefined) out.push(t.attempts);
  return out;
}

type OpenAICompatible = 'openai' | 'groq' | 'openrouter' | 'ollama' | 'vllm' | 'llamacpp' | 'litellm';

/** `model('openai/gpt-4o-mini', options?)`: see `Model`. Built-in prefixes give typed requests, results and chunks. */
export function model(id: `${OpenAICompatible}/${string}`, options?: ModelOptions): Model<ChatRequest, ChatCompletion, ChatChunk>;
export function model(id: `anthropic/${string}`, options?: ModelOptions): Model<MessagesRequest, Message, MessageEvent>;
export function model(id: `json/${string}`, options?: ModelOptions): Model<JsonRequest, unknown, never>;
export function model<Req = Record<string, unknown>, Res = unknown, Chunk = unknown>(id: string, options?: ModelOptions): Model<Req, Res, Chunk>;
export function model(id: string, options: ModelOptions = {}): Model<unknown, unknown, unknown> {
  return new Model(id, options);
}

const validLimits = compile(LimitsSchema, { lazy: true });

function checkOptions(o: ModelOptions): void {
  if (typeof o !== 'object' || o === null) throw new ConfigError('model options', [{ path: '/', rule: 'type', message: 'must be an object' }]);
  const issues = [];
  for (const k of ['timeoutMs', 'attemptTimeoutMs'] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) issues.push({ path: `/${k}`, rule: 'exclusiveMinimum', message: 'must be a number > 0' });
  }
  // Checked here, not first by the executor: the handle copies them (structuredClone) before one exists.
  if (o.limits !== undefined && o.limits !== false && !validLimits(o.limits)) issues.push(...validLimits.issues().map((i) => ({ ...i, path: `/limits${i.path}` })));
  if (o.pool !== undefined && !validPoolConfig(o.pool)) issues.push(...validPoolConfig.issues().map((i) => ({ ...i, path: `/pool${i.path}` })));
  const h: unknown = o.headers;
  if (h !== undefined && (typeof h !== 'object' || h === null || Array.isArray(h) || !Object.values(h).every((v) => typeof v === 'string'))) {
    issues.push({ path: '/headers', rule: 'type', message: 'must be an object of header names to string values' });
  }
  if (o.executor !== undefined && !(o.executor instanceof Executor)) issues.push({ path: '/executor', rule: 'type', message: 'must be an Executor' });
  if (o.executor !== undefined && (o.limits !== undefined || o.pool !== undefined || o.middleware !== undefined || o.concurrency !== undefined || o.queueCapacity !== undefined)) {
    issues.push({ path: '/executor', rule: 'exclusive', message: 'a shared executor brings its own limits, pool, middleware, concurrency and queue: do not pass them too' });
  }
  if (issues.length > 0) throw new ConfigError('model options', issues);
}

function publicHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).filter(([k]) => !SECRET_HEADER.test(k)));
}

/** A Redis URL's password is a secret too. */
function withoutCredentials(limits: LimitsConfig): LimitsConfig {
  const store = limits.store;
  if (store?.kind !== 'redis') return structuredClone(limits);
  let url = store.url;
  try {
    const u = new URL(url);
    if (u.password !== '' || u.username !== '') {
      u.password = '';
      u.username = '';
      url = u.href;
    }
  } catch {
    // 'spawn' or a non-URL form: nothing to strip
  }
  return { ...structuredClone(limits), store: { ...store, url } };
}

/** The data part of retry options (functions such as `shouldRetry` are not saved). */
function pickRetry(r: RetryOptions): { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; factor?: number } {
  const out: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; factor?: number } = {};
  for (const k of ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'factor'] as const) if (r[k] !== undefined) out[k] = r[k];
  return out;
}
