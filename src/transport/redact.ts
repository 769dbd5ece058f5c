const PREVIEW_CHARS = 200;

/**
 * Text safe to put in an error: every secret replaced, bearer tokens and `sk-` style keys
 * masked even when we were not told about them, and cut to a short preview.
 */
export function safePreview(text: string, secrets: readonly string[] = [], max: number = PREVIEW_CHARS): string {
  let out = text.length > max * 4 ? text.slice(0, max * 4) : text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  out = out.replace(/Bearer\s+[^\s"',]+/gi, 'Bearer [redacted]').replace(/\bsk-[A-Za-z0-9_-]{6,}/g, 'sk-[redacted]');
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
