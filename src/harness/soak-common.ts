import type { RateWindow } from '../core/schemas.js';

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

/** A target URL as the report shows it: no credentials, no query string. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
