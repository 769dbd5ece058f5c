/**
 * The serialization category of the performance suite, in TypeScript terms: AJV validators
 * compiled from TypeBox (callpool's fast path, what msgspec was in Python) against zod (the
 * Pydantic of TypeScript) on the core structures and on chat-completion responses of 4 KB,
 * 64 KB and 1 MB. Measured side by side in one run; `npm run bench` reports the full figures.
 */
import test from 'ava';
import { compile } from '../../src/core/validate.js';
import { CallContextDataSchema, ExecutorConfigSchema, ServiceCallDataSchema } from '../../src/core/schemas.js';
import { ChatCompletionSchema } from '../../src/services/openai-schemas.js';
import { CallContextDataZ, ChatCompletionZ, ExecutorConfigZ, ServiceCallDataZ, sampleCallContext, sampleExecutorConfig, sampleServiceCall } from '../helpers/zod-schemas.js';
import { loadPayload, type PayloadSize } from '../helpers/payloads.js';
import { compareOps, heapAfterGc, opsPerSecond } from '../helpers/measure.js';

const structures = [
  { name: 'CallContext', ajv: compile(CallContextDataSchema), zod: CallContextDataZ, sample: sampleCallContext },
  { name: 'ServiceCall', ajv: compile(ServiceCallDataSchema), zod: ServiceCallDataZ, sample: sampleServiceCall },
  { name: 'ExecutorConfig', ajv: compile(ExecutorConfigSchema), zod: ExecutorConfigZ, sample: sampleExecutorConfig },
];

test.serial('the AJV and zod twins agree on valid and invalid input', (t) => {
  for (const s of structures) {
    t.true(s.ajv(s.sample), s.name);
    t.true(s.zod.safeParse(s.sample).success, s.name);
    const extra = { ...s.sample, unexpected: 1 };
    t.is(s.ajv(extra), s.zod.safeParse(extra).success, `${s.name}: both treat an unknown field alike`);
    const bad = { ...s.sample, [Object.keys(s.sample)[0]!]: {} };
    t.false(s.ajv(bad), `${s.name} rejects a wrong type`);
    t.false(s.zod.safeParse(bad).success, `${s.name} (zod) rejects a wrong type`);
  }
  const chat = JSON.parse(loadPayload('4kb'));
  t.true(compile(ChatCompletionSchema)(chat));
  t.true(ChatCompletionZ.safeParse(chat).success);
  const broken = { ...chat, choices: [{ index: -1 }] };
  t.false(compile(ChatCompletionSchema)(broken));
  t.false(ChatCompletionZ.safeParse(broken).success);
});

for (const s of structures) {
  test.serial(`${s.name}: AJV validation is >= 2x zod's, same run`, (t) => {
    const { a: ajv, b: zod, ratio: r } = compareOps(() => s.ajv(s.sample), () => s.zod.parse(s.sample), 100_000);
    const ratio = r.median;
    t.log(`AJV ${ajv.median.toFixed(0)}/s, zod ${zod.median.toFixed(0)}/s, ratio ${ratio.toFixed(2)}x`);
    t.true(ratio >= 2);
  });
}

test.serial('batch of 100: validate 100 decoded ServiceCalls, AJV >= 2x zod', (t) => {
  const batch = Array.from({ length: 100 }, (_, i) => ({ ...sampleServiceCall, tokens: i }));
  const ajv = structures[1]!.ajv;
  const { a, b: z, ratio } = compareOps(() => batch.every((x) => ajv(x)), () => batch.map((x) => ServiceCallDataZ.parse(x)), 2000);
  t.log(`AJV ${a.median.toFixed(0)} batches/s, zod ${z.median.toFixed(0)} batches/s, ratio ${ratio.median.toFixed(2)}x`);
  t.true(ratio.median >= 2);
});

for (const size of ['4kb', '64kb', '1mb'] as PayloadSize[]) {
  test.serial(`chat completion ${size}: validation AJV >= 2x zod; validated parse stays close to bare JSON.parse`, (t) => {
    const text = loadPayload(size);
    const parsed = JSON.parse(text);
    const ajv = compile(ChatCompletionSchema);
    const iterations = size === '1mb' ? 20 : size === '64kb' ? 300 : 5000;
    const cmp = compareOps(() => ajv(parsed), () => ChatCompletionZ.parse(parsed), iterations * 10);
    const validateAjv = cmp.a;
    const validateZod = cmp.b;
    // Measured, side by side: a validated parse (JSON.parse then AJV) against a bare JSON.parse.
    const parse = compareOps(() => ajv(JSON.parse(text)), () => JSON.parse(text), iterations);
    const ratio = cmp.ratio.median;
    const overhead = 1 / parse.ratio.median;
    t.log(`validate: AJV ${validateAjv.median.toFixed(0)}/s vs zod ${validateZod.median.toFixed(0)}/s (${ratio.toFixed(1)}x); parse+validate costs ${overhead.toFixed(3)}x bare JSON.parse`);
    t.true(ratio >= 2);
    // Measured 0.9-1.27x across sizes on a busy machine: validation must cost well under half a parse.
    t.true(overhead < 1.5);
  });
}

test.serial('memory per 100k validated ServiceCalls: AJV keeps what JSON.parse made, zod allocates copies', async (t) => {
  const lines = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ ...sampleServiceCall, tokens: i }));
  const ajv = structures[1]!.ajv;
  const base = await heapAfterGc();
  let kept: unknown[] = lines.map((l) => {
    const v = JSON.parse(l);
    if (!ajv(v)) throw new Error('invalid');
    return v;
  });
  const ajvBytes = (await heapAfterGc()) - base;
  kept = [];
  const base2 = await heapAfterGc();
  kept = lines.map((l) => ServiceCallDataZ.parse(JSON.parse(l)));
  const zodBytes = (await heapAfterGc()) - base2;
  t.log(`retained per 100k: AJV ${(ajvBytes / 1048576).toFixed(1)} MB, zod ${(zodBytes / 1048576).toFixed(1)} MB`);
  t.is(kept.length, 100_000);
  // Both keep one plain object per call; zod must not keep less than the validated originals.
  t.true(ajvBytes <= zodBytes * 1.1);
});
