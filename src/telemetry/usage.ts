/** Token counts read from a result or stream chunk of any of the built-in wire formats. */
export interface TokenUsage {
  input?: number;
  output?: number;
  total?: number;
}

type U = Record<string, unknown> | null | undefined;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * OpenAI (`usage.prompt_tokens/completion_tokens/total_tokens`), Anthropic (`usage` or
 * `message.usage` with `input_tokens`/`output_tokens`, cumulative in `message_delta`), or nothing.
 */
export function usageOf(value: unknown): TokenUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const u = (v['usage'] ?? (v['message'] as U)?.['usage']) as U;
  if (typeof u !== 'object' || u === null) return undefined;
  const input = num(u['prompt_tokens']) ?? sum(u['input_tokens'], u['cache_creation_input_tokens'], u['cache_read_input_tokens']);
  const output = num(u['completion_tokens']) ?? num(u['output_tokens']);
  const total = num(u['total_tokens']);
  if (input === undefined && output === undefined && total === undefined) return undefined;
  const out: TokenUsage = {};
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  if (total !== undefined) out.total = total;
  return out;
}

function sum(...vs: unknown[]): number | undefined {
  let n: number | undefined;
  for (const v of vs) if (num(v) !== undefined) n = (n ?? 0) + (v as number);
  return n;
}

/** Folds the usage of successive stream chunks: the last input, output and total seen win. */
export function mergeUsage(acc: TokenUsage | undefined, next: TokenUsage | undefined): TokenUsage | undefined {
  if (next === undefined) return acc;
  return { ...acc, ...next };
}

/** `total`, else input + output. */
export function totalOf(u: TokenUsage | undefined): number | undefined {
  if (u === undefined) return undefined;
  if (u.total !== undefined) return u.total;
  if (u.input === undefined && u.output === undefined) return undefined;
  return (u.input ?? 0) + (u.output ?? 0);
}
