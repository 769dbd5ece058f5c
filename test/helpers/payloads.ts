/**
 * Sample chat-completion responses of about 4 KB, 64 KB and 1 MB, shaped like a real
 * provider's: several choices, each with its message and per-token logprobs (which is what
 * makes large responses large). Deterministic, so fixtures/payloads/ can be regenerated:
 *   node --import tsx test/helpers/payloads.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.js';
import { prng } from './prng.js';

export const PAYLOAD_SIZES = { '4kb': 4 * 1024, '64kb': 64 * 1024, '1mb': 1024 * 1024 } as const;
export type PayloadSize = keyof typeof PAYLOAD_SIZES;

export const payloadDir = join(ROOT, 'fixtures', 'payloads');

const WORDS = ['the', 'rate', 'limit', 'window', 'queue', 'token', 'stream', 'worker', 'deadline', 'call', 'model', 'answer', 'pool', 'retry'];

export function makeChatCompletion(targetBytes: number, seed = 1): unknown {
  const rand = prng(seed);
  const word = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  const choices: unknown[] = [];
  const body = { id: 'chatcmpl-' + seed, object: 'chat.completion', created: 1_764_000_000, model: 'gpt-4o-mini', choices, usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, system_fingerprint: 'fp_callpool' };
  let bodySize = JSON.stringify(body).length;
  let size = bodySize;
  let tokens = 0;
  while (size < targetBytes) {
    const index = choices.length;
    const content: string[] = [];
    const logprobs: unknown[] = [];
    for (let i = 0; i < 40 && size < targetBytes; i++) {
      const token = word();
      content.push(token);
      const entry = { token: ' ' + token, logprob: -rand() * 3, bytes: [...Buffer.from(' ' + token)], top_logprobs: [{ token: ' ' + word(), logprob: -rand() * 5 }] };
      logprobs.push(entry);
      size += JSON.stringify(entry).length + token.length + 2;
      tokens++;
    }
    const choice = { index, message: { role: 'assistant', content: content.join(' ') }, logprobs: { content: logprobs }, finish_reason: 'stop' };
    choices.push(choice);
    // The body's exact length, counted without stringifying it whole for each choice.
    bodySize += JSON.stringify(choice).length + (index > 0 ? 1 : 0);
    size = bodySize;
  }
  body.usage = { prompt_tokens: 120, completion_tokens: tokens, total_tokens: 120 + tokens };
  return body;
}

export function loadPayload(size: PayloadSize): string {
  return readFileSync(join(payloadDir, `chat-completion-${size}.json`), 'utf8');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  mkdirSync(payloadDir, { recursive: true });
  for (const [name, bytes] of Object.entries(PAYLOAD_SIZES)) {
    const text = JSON.stringify(makeChatCompletion(bytes));
    writeFileSync(join(payloadDir, `chat-completion-${name}.json`), text);
    console.log(name, text.length);
  }
}
