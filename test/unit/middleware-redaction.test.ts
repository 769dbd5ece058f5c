import test from 'ava';
import { RateLimitError, TransportError, ValidationError } from '../../src/index.js';
import { REDACTED, createRedactor, redact } from '../../src/core/redact.js';
import { redaction } from '../../src/middleware/redaction.js';
import { chunks, collect, fakeInv } from '../helpers/middleware-fakes.js';

const SECRET = 'sk-proj-S3CRETs3cretS3CRET';
const OPAQUE = 'opaque-value-9f8e7d6c';

test('redact: secret keys at any depth, any case, in objects, arrays and maps; the input is untouched', (t) => {
  const input = {
    headers: { Authorization: `Bearer ${OPAQUE}`, 'X-API-Key': OPAQUE, 'content-type': 'json' },
    nested: [{ deeper: { PASSWORD: OPAQUE, token: OPAQUE, Secret: OPAQUE, cookie: OPAQUE, 'Set-Cookie': [OPAQUE] } }],
    apikey: OPAQUE,
    'api-key': OPAQUE,
    openaiApiKey: OPAQUE,
    client_secret: OPAQUE,
    usage: { tokens: 12, total_tokens: 30 },
    map: new Map([['authorization', OPAQUE]]),
  };
  const before = JSON.stringify({ ...input, map: [...input.map] });
  const out = redact(input) as Record<string, unknown>;
  t.false(JSON.stringify(out).includes(OPAQUE));
  t.is((out['headers'] as Record<string, unknown>)['content-type'], 'json');
  t.deepEqual(out['usage'], { tokens: 12, total_tokens: 30 });
  t.is(JSON.stringify({ ...input, map: [...input.map] }), before);
});

test('redact: bearer tokens, sk- keys and key=value secrets inside strings', (t) => {
  const s = redact.string(`failed: Authorization: Bearer ${OPAQUE} with ${SECRET}; url https://x.io/v1?api_key=${OPAQUE}&q=1 "password":"${OPAQUE}" cookie: a=${OPAQUE}; b=${OPAQUE}`);
  t.false(s.includes(OPAQUE), s);
  t.false(s.includes(SECRET), s);
  t.true(s.includes('q=1'));
  t.true(s.includes(REDACTED));
  t.is(redact.string('token estimate for \'x\' must be >= 0'), 'token estimate for \'x\' must be >= 0');
  t.is(redact.string('max_tokens: 100'), 'max_tokens: 100');
});

test('redact: cycles, depth, binary, functions and known secrets', (t) => {
  const a: Record<string, unknown> = { name: 'a' };
  a['self'] = a;
  a['bin'] = new Uint8Array(16);
  a['fn'] = () => OPAQUE;
  a['note'] = `contains ${OPAQUE}`;
  const out = createRedactor({ secrets: [OPAQUE] })(a) as Record<string, unknown>;
  t.is(out['self'], '[circular]');
  t.is(out['bin'], '[binary 16 bytes]');
  t.false('fn' in out);
  t.is(out['note'], `contains ${REDACTED}`);
  let deep: unknown = OPAQUE;
  for (let i = 0; i < 100; i++) deep = { d: deep };
  t.false(JSON.stringify(redact(deep)).includes(OPAQUE));
});

test('redact: an error becomes a plain copy with code, message and context scrubbed', (t) => {
  const err = new TransportError(`upstream echoed Bearer ${OPAQUE}`, 401, { context: { headers: { authorization: OPAQUE } }, cause: new Error(`cause ${SECRET}`) });
  const out = redact(err) as Record<string, unknown>;
  t.is(out['code'], 'E_TRANSPORT');
  t.is(out['status'], 401);
  t.false(JSON.stringify(out).includes(OPAQUE));
  t.false(JSON.stringify(out).includes(SECRET));
  t.true(err.message.includes(OPAQUE)); // the copy, not the original
});

test('scrubError rewrites in place: message, stack, context, fields and causes; class and code kept', (t) => {
  const cause = new Error(`inner ${SECRET}`);
  const err = new RateLimitError(`429 for key ${SECRET}`, 1000, { context: { request: { apiKey: OPAQUE, prompt: 'hi' } }, cause });
  const same = redact.scrubError(err);
  t.is(same, err);
  t.true(err instanceof RateLimitError);
  t.is(err.code, 'E_RATE_LIMITED');
  t.is(err.retryAfterMs, 1000);
  t.true(err.retryable);
  t.deepEqual(err.context, { request: { apiKey: REDACTED, prompt: 'hi' } });
  for (const text of [err.message, err.stack ?? '', cause.message, cause.stack ?? '']) t.false(text.includes(SECRET), text);

  const frozen = Object.freeze(new ValidationError(`bad ${SECRET}`, []));
  const copy = redact.scrubError(frozen);
  t.not(copy, frozen);
  t.true(copy instanceof ValidationError);
  t.is(copy.code, 'E_VALIDATION');
  t.false(copy.message.includes(SECRET));
});

test('redaction middleware: errors leaving a call or a stream are scrubbed, results untouched', async (t) => {
  const mw = redaction({ secrets: [OPAQUE] });
  const result = { echo: OPAQUE };
  t.is(await mw.call!(fakeInv(), async () => result), result);
  const err = await t.throwsAsync(mw.call!(fakeInv(), async () => { throw new TransportError(`got ${OPAQUE}`, 500, { context: { token: OPAQUE } }); }), { instanceOf: TransportError });
  t.false(JSON.stringify({ m: err!.message, c: err!.context, s: err!.stack }).includes(OPAQUE));
  const got: unknown[] = [];
  const e2 = await t.throwsAsync(async () => {
    for await (const c of mw.stream!(fakeInv({ kind: 'stream' }), () => chunks([OPAQUE], new Error(`mid-stream ${OPAQUE}`)))) got.push(c);
  });
  t.deepEqual(got, [OPAQUE]);
  t.false(e2!.message.includes(OPAQUE));
  t.deepEqual(await collect(mw.stream!(fakeInv({ kind: 'stream' }), () => chunks([1]))), [1]);
});

test('redaction middleware: a layer below that throws synchronously is still scrubbed', async (t) => {
  const mw = redaction({ secrets: [OPAQUE] });
  t.is(mw.name, 'redaction');
  const e1 = await t.throwsAsync(mw.call!(fakeInv(), () => { throw new Error(`sync ${OPAQUE}`); }));
  t.false(e1!.message.includes(OPAQUE));
  const e2 = await t.throwsAsync(collect(mw.stream!(fakeInv({ kind: 'stream' }), () => { throw new Error(`sync ${OPAQUE}`); })));
  t.false(e2!.message.includes(OPAQUE));
  // The very error thrown, scrubbed (not a TypeError from a missing stream).
  t.true(e1!.message.startsWith('sync ') && e2!.message.startsWith('sync '), `${e1!.message} / ${e2!.message}`);
});
