/**
 * The token estimate charged at admission, before the provider reports real usage: one token per
 * 4 characters of prompt text (every string inside `messages`, `prompt` or `input`), plus the
 * completion budget (`max_tokens`, `max_completion_tokens`, else `defaultMaxTokens`).
 * Rounded up, so an estimate is never 0 for a non-empty prompt.
 */
export function estimateTokens(request: Record<string, unknown>, defaultMaxTokens: number): number {
  const chars = textChars(request['messages']) + textChars(request['prompt']) + textChars(request['input']);
  const budget = request['max_tokens'] ?? request['max_completion_tokens'];
  return Math.ceil(chars / 4) + (typeof budget === 'number' ? budget : defaultMaxTokens);
}

/** Characters of every string in a value (message contents, roles, prompt parts); numbers in token arrays count 4 each. */
function textChars(v: unknown, depth = 0): number {
  if (typeof v === 'string') return v.length;
  if (typeof v === 'number') return 4;
  if (depth > 8 || typeof v !== 'object' || v === null) return 0;
  let n = 0;
  for (const item of Array.isArray(v) ? v : Object.values(v)) n += textChars(item, depth + 1);
  return n;
}
