/**
 * A chat completion and a streamed one through an Executor, under request and token limits.
 * With OPENAI_API_KEY set it calls the real endpoint (OPENAI_BASE_URL, else the OpenAI API;
 * model from OPENAI_MODEL, else gpt-4o-mini). Without a key it starts the embedded
 * OpenAI-compatible upstream on loopback and calls that instead.
 * Run: node --import tsx examples/openai-chat.ts
 */
import { CallContext, Executor, openai, startMockUpstream, type MockUpstream } from '../src/index.js';

const real = Boolean(process.env['OPENAI_API_KEY']);
let upstream: MockUpstream | undefined;
if (!real) {
  upstream = await startMockUpstream({ routes: { chat: { latency: { kind: 'lognormal', medianMs: 40, sigma: 0.4 }, stream: { chunks: 12, intervalMs: 15 } } } });
  console.log(`no OPENAI_API_KEY: using the embedded upstream at ${upstream.baseURL}`);
}

// apiKey and baseURL come from OPENAI_API_KEY / OPENAI_BASE_URL when not given here.
const chat = openai.chat({ model: process.env['OPENAI_MODEL'] ?? 'gpt-4o-mini', ...(upstream ? { baseURL: upstream.baseURL } : {}) });

const ex = new Executor({
  concurrency: 4,
  limits: { requests: { limit: 60, windowMs: 60_000 }, tokens: { limit: 40_000, windowMs: 60_000 } },
  pool: { kind: 'piscina', threads: 1 },
});

const ctx = CallContext.withTimeout('example', 60_000, { capabilities: [...chat.requires] });
try {
  const reply = await ex.call(chat, { messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 20 }, ctx);
  console.log(`call:   ${reply.choices[0]?.message.content ?? ''}  (${reply.usage?.total_tokens ?? '?'} tokens)`);

  process.stdout.write('stream: ');
  for await (const chunk of ex.stream(chat, { messages: [{ role: 'user', content: 'Count from one to five.' }], max_tokens: 30 }, ctx)) {
    process.stdout.write(chunk.choices[0]?.delta.content ?? '');
  }
  process.stdout.write('\n');
  const s = ex.stats();
  console.log(`completed ${s.completed}, failed ${s.failed}, run time p50 ${s.runTime.p50.toFixed(1)} ms`);
} finally {
  await ex.close();
  await upstream?.close();
}
