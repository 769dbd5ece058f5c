/**
 * Servers nobody here wrote: `@dwmkerr/mock-llm` (an OpenAI-compatible mock, started as its own
 * process on a free loopback port) and bodies recorded from real providers (OpenAI, Anthropic,
 * Ollama, vLLM), served byte for byte over loopback. callpool must accept whatever they send.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { model, usageOf } from '../../src/index.js';
import { mergeUsage, totalOf, type TokenUsage } from '../../src/telemetry/usage.js';

const here = dirname(fileURLToPath(import.meta.url));
const recorded = (name: string) => readFileSync(join(here, '..', 'fixtures', 'recorded', name), 'utf8');
const hi = { messages: [{ role: 'user', content: 'Hello there!' }] };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

async function startMockLlm(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const port = await freePort();
  const bin = createRequire(import.meta.url).resolve('@dwmkerr/mock-llm/dist/main.js');
  // An empty folder as cwd: no mock-llm.yaml there, so it runs its default (echo) rules.
  const cwd = mkdtempSync(join(tmpdir(), 'mock-llm-'));
  const child = spawn(process.execPath, [bin], { cwd, env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill();
    rmSync(cwd, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (/running on/.test(out)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`mock-llm exited with ${code}: ${out}`)));
  });
  return `http://127.0.0.1:${port}/v1`;
}

test('mock-llm - the default chat call (a body without index or usage) succeeds', async (t) => {
  const base = await startMockLlm(t);
  const m = model('openai/gpt-4', { baseURL: base, apiKey: 'unused', pool: { kind: 'inline' }, telemetry: false, retry: false });
  t.teardown(() => m.close());
  const out = (await m.chat(hi)) as { choices: { message: { content: string } }[] };
  t.is(out.choices[0]!.message.content, 'Hello there!');
});

test('mock-llm - a stream (content split in chunks) arrives whole', async (t) => {
  const base = await startMockLlm(t);
  const m = model('openai/gpt-4', { baseURL: base, apiKey: 'unused', pool: { kind: 'inline' }, telemetry: false, retry: false });
  t.teardown(() => m.close());
  let text = '';
  for await (const c of m.stream({ messages: [{ role: 'user', content: 'a reply long enough to come back in more than one chunk of fifty characters' }] })) {
    text += (c as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '';
  }
  t.is(text, 'a reply long enough to come back in more than one chunk of fifty characters');
});

/** A loopback server answering every request with one recorded body; it keeps the request headers. */
async function replay(t: { teardown(fn: () => unknown): void }, body: string, sse: boolean) {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume().once('end', () => {
      res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, seen };
}

const providers = [
  { label: 'OpenAI', id: 'openai/gpt-4o-mini', json: 'openai-chat.json', sse: 'openai-chat-stream.sse', callText: 'Hello! How can I assist you today?', callTokens: 29, streamTokens: 14, path: '/v1' },
  { label: 'Ollama', id: 'ollama/llama3.2', json: 'ollama-chat.json', sse: 'ollama-chat-stream.sse', callText: 'Hello there!', callTokens: 34, streamTokens: 34, path: '/v1' },
  { label: 'vLLM', id: 'vllm/meta-llama/Llama-3.1-8B-Instruct', json: 'vllm-chat.json', sse: 'vllm-chat-stream.sse', callText: 'Hello there!', callTokens: 46, streamTokens: 46, path: '/v1' },
  { label: 'mock-llm (README body)', id: 'openai/gpt-4', json: 'mock-llm-readme-chat.json', sse: undefined, callText: 'Hello there!', callTokens: undefined, streamTokens: undefined, path: '/v1' },
  { label: 'Anthropic', id: 'anthropic/claude-sonnet-4-20250514', json: 'anthropic-message.json', sse: 'anthropic-stream.sse', callText: 'Hello there!', callTokens: 18, streamTokens: 487, path: '' },
] as const;

const textOf = (r: any): string => (r.choices ? r.choices[0].message.content : r.content[0].text);
const deltaOf = (c: any): string => (c.choices ? (c.choices[0]?.delta.content ?? '') : c.type === 'content_block_delta' ? c.delta.text : '');

for (const p of providers) {
  test(`recorded ${p.label} response - accepted, content and usage read`, async (t) => {
    const srv = await replay(t, recorded(p.json), false);
    const m = model(p.id, { baseURL: srv.url + p.path, apiKey: 'sk-recorded-0000', pool: { kind: 'inline' }, telemetry: false });
    t.teardown(() => m.close());
    const out = await m.chat(hi);
    t.is(textOf(out), p.callText);
    t.is(totalOf(usageOf(out)), p.callTokens);
    if (p.label === 'Anthropic') {
      t.is(srv.seen[0]!['x-api-key'], 'sk-recorded-0000');
      t.is(srv.seen[0]!['anthropic-version'], '2023-06-01');
      t.is(srv.seen[0]!.authorization, undefined);
    } else {
      t.is(srv.seen[0]!.authorization, 'Bearer sk-recorded-0000');
    }
  });
  if (p.sse !== undefined) {
    test(`recorded ${p.label} stream - every chunk accepted, text and usage read`, async (t) => {
      const srv = await replay(t, recorded(p.sse), true);
      const m = model(p.id, { baseURL: srv.url + p.path, apiKey: 'sk-recorded-0000', pool: { kind: 'inline' }, telemetry: false });
      t.teardown(() => m.close());
      let text = '';
      let usage: TokenUsage | undefined;
      for await (const c of m.stream(hi)) {
        text += deltaOf(c);
        usage = mergeUsage(usage, usageOf(c));
      }
      t.is(text, 'Hello there!');
      t.is(totalOf(usage), p.streamTokens);
    });
  }
}
