import { createRedactor, redact } from '../core/redact.js';

const PREVIEW_CHARS = 200;

/**
 * Text safe to put in an error: the known secrets replaced, bearer tokens, `sk-` keys and
 * `key=value` secrets masked even when we were not told about them, cut to a short preview.
 */
export function safePreview(text: string, secrets: readonly string[] = [], max: number = PREVIEW_CHARS): string {
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  let out = (secrets.length > 0 ? createRedactor({ secrets }) : redact).string(head);
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** `origin + path` of a URL, never its query (which may hold a key) nor credentials. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
