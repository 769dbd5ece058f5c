import type { RateWindow } from '../core/schemas.js';
import { describeUrl } from '../transport/redact.js';
import type { Fixture } from './fixture.js';
import { UpstreamThread } from './upstream-thread.js';

/** The key the embedded upstream accepts unless the fixture sets one. */
export const MOCK_KEY = 'sk-callpool-mock';

/** A Redis limiter store url that asks the soak to start a throwaway redis-server. */
export const SPAWN_REDIS = 'spawn';

export function firstWindow(w: RateWindow | RateWindow[] | undefined): RateWindow | undefined {
  return Array.isArray(w) ? w[0] : w;
}

export function codeOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'E_UNKNOWN';
}

/** A URL as reports show it: origin and path, never credentials or query. */
export const redactUrl = describeUrl;

/** Limits as a report shows them: a store URL never carries its credentials. */
export function reportLimits<L extends { store?: { kind: string; url?: string } }>(limits: L | undefined): L | null {
  if (limits === undefined) return null;
  const store = limits.store;
  if (store?.url === undefined) return limits;
  return { ...limits, store: { ...store, url: redactUrl(store.url) } };
}

/** The embedded upstream (on its own thread) or the `target` URL, with the key to use. */
export async function openUpstream(
  opts: { target?: string | undefined; apiKey?: string | undefined },
  fixture: Fixture,
  seed: number,
): Promise<{ upstream: UpstreamThread | undefined; baseURL: string; apiKey: string | undefined }> {
  if (opts.target !== undefined) return { upstream: undefined, baseURL: opts.target, apiKey: opts.apiKey ?? (process.env['OPENAI_API_KEY'] || undefined) };
  const upstream = await UpstreamThread.start({ ...fixture.upstream, seed: fixture.upstream?.seed ?? seed });
  return { upstream, baseURL: upstream.baseURL, apiKey: fixture.upstream?.apiKey ?? MOCK_KEY };
}
