/**
 * The model handle: one object per model, key from the environment, the provider's limits, the
 * recommended middleware and its own worker pool. Without keys this starts the embedded upstream
 * (which speaks both OpenAI and Anthropic) and points both handles at it.
 * Run: node --import tsx examples/model-handle.ts
 */
import { Model, model, startMockUpstream } from '../src/index.js';

const up = await startMockUpstream({
  routes: {
    chat: { latency: { kind: 'lognormal', medianMs: 40, sigma: 0.4 }, stream: { chunks: 6, intervalMs: 15 } },
    messages: { rateLimit: { requests: 50, tokens: 30_000, windowMs: 60_000 } },
  },
});
const local = (url: string) => (process.env['OPENAI_API_KEY'] || process.env['ANTHROPIC_API_KEY'] ? {} : { baseURL: url, apiKey: 'not-needed' });

{
  await using gpt = model('openai/gpt-4o-mini', local(up.baseURL));
  await using claude = model('anthropic/claude-3-5-haiku-latest', local(up.url));

  const reply = await gpt.chat({ messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 20 });
  console.log(`openai:    ${reply.choices[0]?.message.content}`);

  process.stdout.write('anthropic: ');
  for await (const event of claude.stream({ messages: [{ role: 'user', content: 'Count to five.' }], max_tokens: 50 })) {
    if (event.type === 'content_block_delta') process.stdout.write(event.delta?.text ?? '');
  }
  process.stdout.write('\n');

  // Saved without its key; rebuilt with the key taken from the environment again.
  const saved = JSON.stringify(gpt.toJSON());
  console.log(`saved:     ${saved.slice(0, 120)}...`);
  await using again = Model.fromJSON(JSON.parse(saved), local(up.baseURL));
  await again.chat({ messages: [{ role: 'user', content: 'Again.' }] }, { timeoutMs: 60_000 });
  const s = gpt.stats();
  console.log(`stats:     completed ${s.completed}, queue wait p99 ${s.queueWait.p99.toFixed(2)} ms, run time p50 ${s.runTime.p50.toFixed(1)} ms`);
}
await up.close();
