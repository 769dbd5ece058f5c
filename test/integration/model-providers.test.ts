/**
 * Each built-in adapter through the model handle, over real loopback HTTP to the embedded
 * upstream (which speaks OpenAI and Anthropic): call, stream, usage, 429 with its header, the
 * provider's rate-limit headers holding admissions, and a bad key whose error holds no secret.
 */
import test from 'ava';
import { model, RateLimitError, startMockUpstream, TransportError, usageOf, ValidationError, type MockUpstream, type MockUpstreamOptions, type ModelOptions, type RouteOptions } from '../../src/index.js';
import { mergeUsage, totalOf, type TokenUsage } from '../../src/telemetry/usage.js';

const KEY = 'sk-ant-api03-DONOTLEAK-9f8e7d6c5b4a';
const WRONG = 'sk-proj-WRONGKEY-DONOTLEAK-1a2b3c4d';

interface Spec {
  id: string;
  route: 'chat' | 'messages' | 'json';
  base(up: MockUpstream): string;
  request: Record<string, unknown>;
  text(result: any): string;
  streamText?(chunks: any[]): string;
}

const specs: Spec[] = [
  {
    id: 'openai/gpt-4o-mini',
    route: 'chat',
    base: (up) => up.baseURL,
    request: { messages: [{ role: 'user', content: 'hello there' }], max_tokens: 20 },
    text: (r) => r.choices[0].message.content,
    streamText: (cs) => cs.map((c) => c.choices[0]?.delta?.content ?? '').join(''),
  },
  {
    id: 'anthropic/claude-3-5-haiku-latest',
    route: 'messages',
    base: (up) => up.url,
    request: { messages: [{ role: 'user', content: 'hello there' }], max_tokens: 20 },
    text: (r) => r.content[0].text,
    streamText: (cs) => cs.filter((c) => c.type === 'content_block_delta').map((c) => c.delta.text).join(''),
  },
  {
    id: 'json/echo',
    route: 'json',
    base: (up) => `${up.url}/json`,
    request: { path: '/items', method: 'POST', body: { q: 'hello there' } },
    text: (r) => r.data,
  },
];

async function upstream(t: { teardown(fn: () => unknown): void }, route: Spec['route'], o: RouteOptions = {}, top: MockUpstreamOptions = {}) {
  const up = await startMockUpstream({ apiKey: KEY, ...top, routes: { [route]: o } });
  t.teardown(() => up.close());
  return up;
}

function handle(t: { teardown(fn: () => unknown): void }, spec: Spec, up: MockUpstream, o: ModelOptions = {}) {
  const m = model(spec.id, { baseURL: spec.base(up), apiKey: KEY, pool: { kind: 'inline' }, telemetry: false, ...o });
  t.teardown(() => m.close());
  return m;
}

for (const spec of specs) {
  const p = spec.id.split('/')[0];

  test(`${p} - a call over loopback returns the provider's response with its usage`, async (t) => {
    const up = await upstream(t, spec.route, { responseBytes: 40 });
    const m = handle(t, spec, up, { pool: { kind: 'piscina', threads: 1 } });
    const out = await m.chat(spec.request);
    t.is(spec.text(out), 'lorem ipsum dolor sit amet consectetur a');
    if (spec.route !== 'json') {
      // 'hello there' + role 'user' = 15 characters -> 4 prompt tokens; 40 characters -> 10 out.
      t.deepEqual(usageOf(out), spec.route === 'chat' ? { input: 4, output: 10, total: 14 } : { input: 4, output: 10 });
    }
    t.is(up.stats().requests[spec.route], 1);
    t.is(m.stats().completed, 1);
  });

  if (spec.streamText !== undefined) {
    test(`${p} - a stream over loopback yields the provider's chunks and its usage`, async (t) => {
      const up = await upstream(t, spec.route, { stream: { chunks: 5, chunkBytes: 6 } });
      const m = handle(t, spec, up, { pool: { kind: 'piscina', threads: 1 } });
      const chunks: any[] = [];
      let usage: TokenUsage | undefined;
      for await (const c of m.stream(spec.request)) {
        chunks.push(c);
        usage = mergeUsage(usage, usageOf(c));
      }
      t.is(spec.streamText!(chunks), 'lorem ipsum dolor sit amet con');
      // 30 streamed characters -> 8 output tokens; 4 prompt tokens.
      t.is(usage?.output, 8);
      t.is(totalOf(usage), 12);
    });
  } else {
    test(`${p} - stream is refused at once with a ValidationError naming the provider`, async (t) => {
      const up = await upstream(t, spec.route);
      const m = handle(t, spec, up);
      const err = t.throws(() => m.stream(spec.request), { instanceOf: ValidationError });
      t.regex(err!.message, /provider 'json' does not stream/);
      t.is(up.stats().requests.json, 0);
    });
  }

  test(`${p} - a 429 is a RateLimitError carrying the provider's retry-after`, async (t) => {
    const up = await upstream(t, spec.route, { errors: [{ status: 429, rate: 1, retryAfterMs: 3000 }] });
    const m = handle(t, spec, up, { retry: false });
    const err = await t.throwsAsync(m.chat(spec.request), { instanceOf: RateLimitError });
    t.is(err!.retryAfterMs, 3000);
    t.true(err!.retryable);
    t.regex(err!.message, /HTTP 429/);
  });

  test(`${p} - the provider's rate-limit headers hold the next admission until their reset`, async (t) => {
    // The upstream says: 1 request per 1000 ms window, none left after the first.
    const shaped = await upstream(t, spec.route, { rateLimit: { requests: 1, windowMs: 1000 } });
    const free = await upstream(t, spec.route);
    const limits = { requests: { limit: 100, windowMs: 1000 } };
    // From the first answer to the second request's arrival (the upstream stamps on this
    // thread's clock): the hold alone, not the first call's round trip, which on a cold,
    // loaded process once took half a second.
    const held = new Map<MockUpstream, number>();
    for (const up of [shaped, free]) {
      const m = handle(t, spec, up, { limits });
      await m.chat(spec.request);
      const answered = performance.now();
      await m.chat(spec.request);
      held.set(up, up.arrivals.times(spec.route)[1]! - answered);
    }
    const gap = (up: MockUpstream) => {
      const ts = up.arrivals.times(spec.route);
      return ts[1]! - ts[0]!;
    };
    // Held for the rest of the provider's window (about 1000 ms less one round trip); the control
    // without headers goes at once.
    t.true(gap(shaped) >= 700, `shaped gap ${gap(shaped)} ms`);
    t.true(held.get(free)! < held.get(shaped)! / 3, `held ${held.get(free)} ms without headers vs ${held.get(shaped)} ms with them`);
  });

  test(`${p} - a bad key fails without retries and no secret appears in the error`, async (t) => {
    const up = await upstream(t, spec.route);
    const m = model(spec.id, { baseURL: spec.base(up), apiKey: WRONG, pool: { kind: 'inline' }, telemetry: false });
    t.teardown(() => m.close());
    const err = await t.throwsAsync(m.chat(spec.request), { instanceOf: TransportError });
    t.is(err!.status, 401);
    t.false(err!.retryable);
    t.is(up.stats().requests[spec.route], 1);
    const everything = `${err!.message} ${err!.stack} ${JSON.stringify(err)} ${JSON.stringify(m.toJSON())} ${JSON.stringify(m.stats())}`;
    t.false(everything.includes(WRONG));
    t.false(everything.includes('DONOTLEAK'));
  });
}

test('anthropic - 529 overloaded is a retryable TransportError with the retry-after, and retry tries again', async (t) => {
  const spec = specs[1]!;
  const up = await upstream(t, 'messages', { errors: [{ status: 529, rate: 1, retryAfterMs: 1000 }] });
  const once = handle(t, spec, up, { retry: false });
  const err = await t.throwsAsync(once.chat(spec.request), { instanceOf: TransportError });
  t.is(err!.status, 529);
  t.true(err!.retryable);
  t.is(err!.retryAfterMs, 1000);
  t.regex(err!.message, /overloaded/);
  const retried = handle(t, spec, up, { retry: { maxAttempts: 2, baseDelayMs: 1 } });
  const t0 = performance.now();
  await t.throwsAsync(retried.chat(spec.request), { instanceOf: TransportError });
  // The second attempt waited for the retry-after (1 s), not the 1 ms backoff.
  t.true(performance.now() - t0 >= 900);
  t.is(up.stats().requests.messages, 3);
});

test('anthropic - the request carries x-api-key and anthropic-version, never a Bearer token', async (t) => {
  const up = await startMockUpstream({ apiKey: KEY });
  t.teardown(() => up.close());
  // The upstream refuses a missing anthropic-version with 400 and a missing/wrong x-api-key with 401.
  const res = await fetch(`${up.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: '{"messages":[]}' });
  t.is(res.status, 400);
  t.like(await res.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
  const m = handle(t, specs[1]!, up);
  await t.notThrowsAsync(m.chat(specs[1]!.request));
});
