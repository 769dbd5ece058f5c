import test from 'ava';
import { CallContext } from '../../src/core/call-context.js';
import { RateLimitError } from '../../src/core/errors.js';
import { Executor } from '../../src/executor/executor.js';
import { startMockUpstream } from '../../src/harness/mock-upstream.js';
import { openai } from '../../src/services/openai.js';
import { maxInWindow } from '../helpers/services.js';

// The provider's own limits are honoured with no `limits` configured.
const hello = { messages: [{ role: 'user', content: 'hello' }], max_tokens: 16 };
const ctx = () => CallContext.new('provider', { capabilities: ['net.out:127.0.0.1'] });

test.serial('no limits configured: a 429 retry-after pauses every call, as the arrival log shows', async (t) => {
  const up = await startMockUpstream({ routes: { chat: { latency: { kind: 'fixed', ms: 5 }, errors: [{ status: 429, rate: 1, retryAfterMs: 400 }] } } });
  const ex = new Executor({ pool: { kind: 'inline' }, concurrency: 8 });
  t.teardown(async () => {
    await ex.close();
    await up.close();
  });
  const svc = openai.chat({ baseURL: up.baseURL, model: 'm' });
  const first = await ex.call(svc, hello, ctx()).catch((e: unknown) => e);
  t.true(first instanceof RateLimitError);
  t.is((first as RateLimitError).retryAfterMs, 400);
  const settled = await Promise.allSettled(Array.from({ length: 8 }, () => ex.call(svc, hello, ctx())));
  t.true(settled.every((s) => s.status === 'rejected' && s.reason instanceof RateLimitError));
  const times = up.arrivals.times('chat');
  t.is(times.length, 9);
  t.log(`first arrival after the 429: +${(times[1]! - times[0]!).toFixed(1)} ms`);
  // Unpaused, the 8 calls would arrive within a few ms of the first one's answer.
  t.true(times[1]! - times[0]! >= 400, `the next call arrived ${times[1]! - times[0]!} ms after the one that got the 429`);
});

test.serial('no limits configured: x-ratelimit-* headers shape admission; a provider enforcing 5 per 2000 ms never sees a 6th, nor answers 429', async (t) => {
  const WINDOW = 2000;
  const up = await startMockUpstream({ routes: { chat: { latency: { kind: 'fixed', ms: 5 }, rateLimit: { requests: 5, windowMs: WINDOW, enforce: true } } } });
  const ex = new Executor({ pool: { kind: 'inline' }, concurrency: 20 });
  t.teardown(async () => {
    await ex.close();
    await up.close();
  });
  const svc = openai.chat({ baseURL: up.baseURL, model: 'm' });
  await ex.call(svc, hello, ctx()); // the provider has said nothing before its first answer
  const settled = await Promise.allSettled(Array.from({ length: 14 }, () => ex.call(svc, hello, ctx())));
  const refused = settled.filter((s) => s.status === 'rejected');
  t.is(refused.length, 0, `${refused.length} calls failed (${refused.map((r) => String((r as PromiseRejectedResult).reason)).join('; ')})`);
  t.is(up.stats().statuses[429] ?? 0, 0);
  const times = [...up.arrivals.times('chat')];
  t.is(times.length, 15);
  // The provider's own count: fixed windows from its first arrival.
  const perWindow = new Map<number, number>();
  for (const a of times) {
    const w = Math.floor((a - times[0]!) / WINDOW);
    perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
  }
  t.log(`arrivals per provider window: ${[...perWindow.values()].join(', ')}; most in any rolling ${WINDOW} ms: ${maxInWindow(times, WINDOW)}`);
  t.true(Math.max(...perWindow.values()) <= 5);
  t.true(times.at(-1)! - times[0]! < 3 * WINDOW + 500, 'the limit is used: 15 calls in three windows');
});
