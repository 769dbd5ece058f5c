import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { EXT } from '../helpers/paths.js';
import { ConfigError } from '../../src/core/errors.js';
import { buildRequest, joinUrl, netRight } from '../../src/services/endpoint.js';
import { estimateTokens } from '../../src/services/estimate-tokens.js';
import { handlerModule } from '../../src/services/handler-module.js';
import { DEFAULT_BASE_URL, resolveOpenAIOptions } from '../../src/services/openai-options.js';
import { openai } from '../../src/services/openai.js';
import { jsonService } from '../../src/services/json-service.js';

test('buildRequest() - method, URL, headers and JSON body, from plain data', (t) => {
  const req = buildRequest({ baseURL: 'https://api.example.com/v1', path: '/chat/completions', apiKey: 'k-1', headers: { 'X-Trace': 'a' }, body: { a: 1 } });
  t.deepEqual(req, {
    method: 'POST',
    url: 'https://api.example.com/v1/chat/completions',
    headers: { accept: 'application/json', 'x-trace': 'a', authorization: 'Bearer k-1', 'content-type': 'application/json' },
    body: '{"a":1}',
  });
  t.deepEqual(buildRequest({ baseURL: 'http://h', path: 'items', query: { q: 'a b', n: 2 } }), { method: 'GET', url: 'http://h/items?q=a+b&n=2', headers: { accept: 'application/json' } });
});

test('buildRequest() - is pure: same input, same output, input untouched', (t) => {
  const input = { baseURL: 'http://h/v1/', path: 'x', body: { n: [1, 2] }, headers: { A: 'b' } };
  const copy = structuredClone(input);
  t.deepEqual(buildRequest(input), buildRequest(input));
  t.deepEqual(input, copy);
});

test('joinUrl() - keeps the base path; absolute paths replace the base', (t) => {
  t.is(joinUrl('https://h/v1', '/chat').href, 'https://h/v1/chat');
  t.is(joinUrl('https://h/v1/', 'chat?x=1').href, 'https://h/v1/chat?x=1');
  t.is(joinUrl('https://h', '').href, 'https://h/');
  t.is(joinUrl('https://h/v1', 'https://other.example/x').href, 'https://other.example/x');
  const err = t.throws(() => joinUrl('ftp://user:secret@h', 'x'), { instanceOf: ConfigError });
  t.false(err.message.includes('secret'));
});

test('netRight() - net.out:<host> without port', (t) => {
  t.is(netRight('http://127.0.0.1:8080/v1'), 'net.out:127.0.0.1');
  t.is(netRight(new URL('https://api.openai.com/v1')), 'net.out:api.openai.com');
});

test('resolveOpenAIOptions() - options, then OPENAI_API_KEY / OPENAI_BASE_URL, then defaults', (t) => {
  const env = { OPENAI_API_KEY: 'env-key', OPENAI_BASE_URL: 'http://env.example/v1' };
  t.like(resolveOpenAIOptions({}, env), { apiKey: 'env-key', baseURL: 'http://env.example/v1', timeoutMs: 60_000, idleTimeoutMs: 30_000, streamUsage: true });
  t.like(resolveOpenAIOptions({ apiKey: 'opt', baseURL: 'http://opt/v1' }, env), { apiKey: 'opt', baseURL: 'http://opt/v1' });
  t.like(resolveOpenAIOptions({}, {}), { apiKey: undefined, baseURL: DEFAULT_BASE_URL });
  const bad = t.throws(() => resolveOpenAIOptions({ timeoutMs: -1, baseURL: 'nope' } as never, {}), { instanceOf: ConfigError });
  t.deepEqual(bad.issues.map((i) => i.path).sort(), ['/baseURL', '/timeoutMs']);
});

test('estimateTokens() - prompt characters / 4 (rounded up) plus the completion budget', (t) => {
  t.is(estimateTokens({ messages: [{ role: 'user', content: 'hello world!' }], max_tokens: 100 }, 256), Math.ceil(16 / 4) + 100);
  t.is(estimateTokens({ prompt: 'abcde' }, 256), 2 + 256);
  t.is(estimateTokens({ input: ['abcd', 'efgh'] }, 0), 2);
  t.is(estimateTokens({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 7 }, 256), 2 + 7);
});

test('handlerModule() - resolves to an existing handler file with this file\'s extension', (t) => {
  const url = handlerModule('openai-chat');
  t.true(url.href.endsWith(`/workers/handlers/openai-chat${EXT}`), url.href);
  t.true(existsSync(fileURLToPath(url)));
  for (const name of ['openai-completions', 'openai-embeddings', 'json']) t.true(existsSync(fileURLToPath(handlerModule(name))), name);
});

test('openai.* - services require net.out:<host>, estimate tokens and carry clone-safe options', (t) => {
  const chat = openai.chat({ baseURL: 'https://llm.example.com/v1', apiKey: 'k', model: 'm' });
  t.is(chat.name, 'openai.chat');
  t.deepEqual(chat.requires, ['net.out:llm.example.com']);
  t.is(chat.estimateTokens!({ messages: [{ role: 'user', content: 'abcd' }], max_tokens: 10 }), 2 + 10);
  t.deepEqual(structuredClone(chat.options), chat.options);
  t.false(chat.validateRequest!({ messages: [] }));
  t.true(chat.validateRequest!({ messages: [{ role: 'user', content: 'x' }], temperature: 0 }));
  t.is(openai.embeddings({ baseURL: 'http://e/v1' }).estimateTokens!({ input: 'abcdefgh' }), 2);
  t.is(openai.completions({ baseURL: 'http://e/v1', name: 'legacy' }).name, 'legacy');
});

test('jsonService() - the right follows the request URL; options are checked', (t) => {
  const svc = jsonService({ name: 'weather', baseURL: 'https://api.example.com/v2' });
  t.deepEqual(svc.rights!({ path: '/today' }), ['net.out:api.example.com']);
  t.deepEqual(svc.rights!({ path: 'https://elsewhere.example/x' }), ['net.out:elsewhere.example']);
  t.throws(() => jsonService({ baseURL: 'not a url' }), { instanceOf: ConfigError });
});
