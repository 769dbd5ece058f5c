/**
 * A handler's side channel to the executor, safe across threads: a result or stream chunk may
 * be wrapped with facts the executor acts on (actual token usage reconciles the limiter;
 * provider limits tighten it). The executor unwraps envelopes; callers never see them.
 */
/** What a provider's response headers say about the room left (adaptive limits). */
export interface ProviderLimits {
  remainingRequests?: number;
  remainingTokens?: number;
  /** ms until the provider's request / token windows reset. */
  resetRequestsMs?: number;
  resetTokensMs?: number;
  /** The provider's own limits per window (`x-ratelimit-limit-*`), when it announces them. */
  limitRequests?: number;
  limitTokens?: number;
}

export const META = '__callpool_meta__';

export interface ResultMeta {
  /** Actual tokens the call used (reconciles the token limiter). */
  usage?: { tokens: number };
  /** What the provider's rate-limit headers said. */
  providerLimits?: ProviderLimits;
}

export interface Envelope<T> {
  [META]: ResultMeta;
  value?: T;
}

/** What a caller receives for a handler result of type `T`: envelopes are unwrapped. */
export type Unwrapped<T> = T extends Envelope<infer V> ? V : T;

/** Wraps a result (or a stream chunk) with meta. */
export function withMeta<T>(value: T, meta: ResultMeta): Envelope<T> {
  return { [META]: meta, value };
}

/** A stream item that carries only meta; the consumer never sees it. */
export function metaOnly(meta: ResultMeta): Envelope<never> {
  return { [META]: meta };
}

export function isEnvelope(v: unknown): v is Envelope<unknown> {
  return typeof v === 'object' && v !== null && META in v;
}
