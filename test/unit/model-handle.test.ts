import test from 'ava';
import { readFileSync } from 'node:fs';
import { ConfigError, Executor, Model, model, openai, providers, register, startMockUpstream, type ProviderAdapter } from '../../src/index.js';

const SECRET = 'sk-ant-DONOTLEAK-handle-0001';

test('model() - an unknown prefix is E_CONFIG listing the known providers', (t) => {
  const err = t.throws(() => model('nosuch/thing'), { instanceOf: ConfigError });
  t.is(err!.code, 'E_CONFIG');
  t.regex(err!.message, /unknown provider 'nosuch'; known: .*anthropic.*json.*openai/);
  const bare = t.throws(() => model('gpt-4o-mini'), { instanceOf: ConfigError });
  t.regex(bare!.message, /no 'provider\/' prefix/);
});

test('model() - a name with no known prefix resolves by base URL (any OpenAI-compatible server), the whole name being the model', async (t) => {
  const m = model('meta-llama/Llama-3.1-8B-Instruct', { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k', pool: { kind: 'inline' } });
  t.teardown(() => m.close());
  t.is(m.provider, 'openai');
  t.is(m.model, 'meta-llama/Llama-3.1-8B-Instruct');
  t.is(m.id, 'openai/meta-llama/Llama-3.1-8B-Instruct');
  const byHost = model('llama3.2', { baseURL: 'http://127.0.0.1:11434/v1', pool: { kind: 'inline' } });
  t.teardown(() => byHost.close());
  t.is(byHost.provider, 'ollama');
  const vllm = model('vllm/meta-llama/Llama-3.1-8B-Instruct', { pool: { kind: 'inline' } });
  t.teardown(() => vllm.close());
  t.is(vllm.model, 'meta-llama/Llama-3.1-8B-Instruct');
  t.deepEqual(vllm.service.requires, ['net.out:127.0.0.1']);
});

// Serial: it sets process-wide environment variables.
test.serial('model() - the key comes from the adapter\'s own variable; limits default to the provider\'s documented ones', async (t) => {
  const saved = { o: process.env['OPENAI_API_KEY'], a: process.env['ANTHROPIC_API_KEY'] };
  process.env['OPENAI_API_KEY'] = 'sk-from-env-openai';
  process.env['ANTHROPIC_API_KEY'] = 'sk-from-env-anthropic';
  t.teardown(() => {
    for (const [k, v] of [['OPENAI_API_KEY', saved.o], ['ANTHROPIC_API_KEY', saved.a]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const o = model('openai/gpt-4o-mini', { pool: { kind: 'inline' } });
  const a = model('anthropic/claude-3-5-haiku-latest', { pool: { kind: 'inline' } });
  t.teardown(() => Promise.all([o.close(), a.close()]));
  t.is((o.service.options as { apiKey: string }).apiKey, 'sk-from-env-openai');
  t.is((a.service.options as { apiKey: string }).apiKey, 'sk-from-env-anthropic');
  t.deepEqual(o.toJSON().limits, { requests: { limit: 500, windowMs: 60_000 }, tokens: { limit: 200_000, windowMs: 60_000 } });
  t.deepEqual(a.toJSON().limits, { requests: { limit: 50, windowMs: 60_000 }, tokens: { limit: 30_000, windowMs: 60_000 } });
  const pooled = model('openai/gpt-4o-mini');
  t.deepEqual(pooled.toJSON().pool, { kind: 'piscina', threads: 2 });
  t.is(pooled.executor.poolKind, 'piscina');
  await pooled.close();
  t.throws(() => model('json/weather'), { code: 'E_CONFIG', message: /no default base URL/ });
  t.false(JSON.stringify([o.toJSON(), a.toJSON()]).includes('sk-from-env'));
});

test('toJSON()/fromJSON() - rebuilds a working handle without the secret (key from the environment or given again)', async (t) => {
  const up = await startMockUpstream({ apiKey: SECRET });
  t.teardown(() => up.close());
  const m = model('openai/gpt-4o-mini', {
    baseURL: up.baseURL,
    apiKey: SECRET,
    headers: { 'x-team': 'a', authorization: `Bearer ${SECRET}`, 'X-Api-Key': SECRET },
    limits: { requests: { limit: 7, windowMs: 1000 }, store: { kind: 'redis', url: `redis://user:${SECRET}@127.0.0.1:6390/0` } },
    pool: { kind: 'inline' },
    concurrency: 3,
  });
  const data = m.toJSON();
  await m.close();
  const text = JSON.stringify(data);
  t.false(text.includes('DONOTLEAK'));
  t.deepEqual(data.headers, { 'x-team': 'a' });
  t.is((data.limits as { store: { url: string } }).store.url, 'redis://127.0.0.1:6390/0');
  t.like(data, { kind: 'callpool/model@1', id: 'openai/gpt-4o-mini', provider: 'openai', model: 'gpt-4o-mini', concurrency: 3 });

  const back = Model.fromJSON({ ...JSON.parse(text), limits: { requests: { limit: 7, windowMs: 1000 } } }, { apiKey: SECRET });
  t.teardown(() => back.close());
  const out = (await back.chat({ messages: [{ role: 'user', content: 'hi' }] })) as { choices: unknown[] };
  t.is(out.choices.length, 1);
  t.deepEqual({ ...back.toJSON(), limits: 'x' }, { ...data, limits: 'x' });
  const bad = t.throws(() => Model.fromJSON({ id: 'openai/x' } as never), { instanceOf: ConfigError });
  t.regex(bad!.message, /callpool\/model@1/);
});

test('close() and Symbol.asyncDispose - idempotent; a closed handle refuses calls with E_CLOSED', async (t) => {
  let closedBy: Model | undefined;
  {
    await using m = model('openai/gpt-4o-mini', { baseURL: 'http://127.0.0.1:9/v1', pool: { kind: 'inline' } });
    closedBy = m;
  }
  t.true(closedBy!.executor.closed);
  await closedBy!.close();
  await t.throwsAsync(closedBy!.chat({ messages: [{ role: 'user', content: 'x' }] }), { code: 'E_CLOSED' });
});

// Serial: ava runs it before the concurrent tests, so no other test's threads come or go meanwhile.
test.serial('a handle starts no worker threads until it is used: a thousand unused handles, then one call', async (t) => {
  // Threads of this process (Linux), and worker threads started ('worker' is emitted for each):
  // a count of starts does not depend on when earlier tests' threads finish exiting.
  const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  let started = 0;
  const onWorker = () => void started++;
  process.on('worker', onWorker);
  t.teardown(() => void process.off('worker', onWorker));
  const tick = () => new Promise((r) => setTimeout(r, 50));

  const before = threads();
  const unused = Array.from({ length: 1000 }, () => model('openai/gpt-4o-mini', { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'k' }));
  t.true(threads() <= before, 'no thread for a handle nobody called');
  await Promise.all(unused.map((m) => m.close()));
  t.throws(() => model('openai/gpt-4o-mini', { pool: { kind: 'piscina', threads: 0 } }), { code: 'E_CONFIG' }, 'a configuration its executor would refuse is refused at once');
  await t.throwsAsync(unused[0]!.chat({ messages: [{ role: 'user', content: 'x' }] }), { code: 'E_CLOSED' });
  t.true(unused[1]!.executor.closed, 'read after close(), its executor is a closed one');
  await tick();
  t.is(started, 0, 'no worker thread started for unused or closed handles');

  const up = await startMockUpstream();
  t.teardown(() => up.close());
  const used = model('openai/gpt-4o-mini', { baseURL: up.baseURL, apiKey: 'k' });
  await tick();
  t.is(started, 0, 'none for a handle made and not yet called');
  await used.chat({ messages: [{ role: 'user', content: 'hi' }] });
  t.is(started, 2, 'its two piscina threads started with the first call');
  await used.close();
});

test('handles sharing one executor share its queue and limits; closing a handle leaves a shared executor open', async (t) => {
  const up = await startMockUpstream();
  const shared = new Executor({ pool: { kind: 'inline' }, concurrency: 4, limits: { requests: { limit: 3, windowMs: 60_000 } } });
  t.teardown(async () => {
    await shared.close();
    await up.close();
  });
  const a = model('openai/gpt-4o-mini', { baseURL: up.baseURL, executor: shared });
  const b = model('anthropic/claude-3-5-haiku-latest', { baseURL: up.url, executor: shared });
  const req = { messages: [{ role: 'user', content: 'hi' }] };
  await a.chat(req);
  await b.chat(req);
  await a.chat(req);
  // The 4th call waits for the shared window (3 a minute): it is still queued.
  const fourth = b.chat(req, { timeoutMs: 200 });
  await t.throwsAsync(fourth, { code: 'E_DEADLINE' });
  t.is(shared.stats().completed, 3);
  await a.close();
  t.false(shared.closed);
  t.throws(() => model('openai/x', { executor: shared, limits: false }), { code: 'E_CONFIG', message: /shared executor/ });
});

test('register() - an outside adapter resolves by its prefix; a taken or invalid name is E_CONFIG', async (t) => {
  const up = await startMockUpstream();
  t.teardown(() => up.close());
  const acme: ProviderAdapter = {
    name: 'acme-test',
    apiKeyEnv: 'ACME_TEST_KEY',
    defaultLimits: () => ({ requests: { limit: 10, windowMs: 1000 } }),
    service: (c) => openai.chat({ name: 'acme.chat', baseURL: c.baseURL ?? up.baseURL, model: c.model }),
  };
  register(acme);
  t.true(providers().includes('acme-test'));
  const m = model('acme-test/small', { pool: { kind: 'inline' } });
  t.teardown(() => m.close());
  const out = (await m.chat({ messages: [{ role: 'user', content: 'hi' }] })) as { model: string };
  t.is(out.model, 'small');
  t.deepEqual(m.toJSON().limits, { requests: { limit: 10, windowMs: 1000 } });
  t.throws(() => register(acme), { code: 'E_CONFIG', message: /already registered/ });
  t.notThrows(() => register(acme, { replace: true }));
  t.throws(() => register({ name: 'Bad Name', service: acme.service }), { code: 'E_CONFIG', message: /\/name/ });
  t.throws(() => register({ name: 'nofn' } as never), { code: 'E_CONFIG', message: /\/service/ });
});

test('per-call options: a deadline, an abort signal and capabilities reach the call', async (t) => {
  const up = await startMockUpstream({ routes: { chat: { latency: { kind: 'fixed', ms: 400 } } } });
  t.teardown(() => up.close());
  const m = model('openai/gpt-4o-mini', { baseURL: up.baseURL, pool: { kind: 'inline' }, retry: false });
  t.teardown(() => m.close());
  const req = { messages: [{ role: 'user', content: 'hi' }] };
  await t.throwsAsync(m.chat(req, { timeoutMs: 50 }), { code: 'E_DEADLINE' });
  const ac = new AbortController();
  const p = m.chat(req, { signal: ac.signal });
  setTimeout(() => ac.abort(), 30);
  await t.throwsAsync(p, { code: 'E_CANCELLED' });
  await t.throwsAsync(m.chat(req, { capabilities: ['net.out:elsewhere.example'] }), { code: 'E_POLICY' });
});
