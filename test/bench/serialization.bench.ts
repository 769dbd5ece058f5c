/**
 * AJV (compiled from TypeBox, callpool's fast path) vs zod, side by side: the core structures,
 * a batch of 100, chat-completion responses of 4 KB, 64 KB and 1 MB (validation alone, and a
 * validated parse against a bare JSON.parse), and heap retained per 100k validated objects.
 */
import { compile } from '../../src/core/validate.js';
import { CallContextDataSchema, ExecutorConfigSchema, ServiceCallDataSchema } from '../../src/core/schemas.js';
import { ChatCompletionSchema } from '../../src/services/openai-schemas.js';
import { CallContextDataZ, ChatCompletionZ, ExecutorConfigZ, ServiceCallDataZ, sampleCallContext, sampleExecutorConfig, sampleServiceCall } from '../helpers/zod-schemas.js';
import { loadPayload, type PayloadSize } from '../helpers/payloads.js';
import { compareOps, heapAfterGc } from '../helpers/measure.js';
import { result, runStandalone, type BenchResult } from './types.js';


export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const structures = [
    { name: 'CallContext', ajv: compile(CallContextDataSchema), zod: CallContextDataZ, sample: sampleCallContext },
    { name: 'ServiceCall', ajv: compile(ServiceCallDataSchema), zod: ServiceCallDataZ, sample: sampleServiceCall },
    { name: 'ExecutorConfig', ajv: compile(ExecutorConfigSchema), zod: ExecutorConfigZ, sample: sampleExecutorConfig },
  ];
  for (const s of structures) {
    const c = compareOps(() => s.ajv(s.sample), () => s.zod.parse(s.sample), 100_000);
    out.push(result(`${s.name} validate, AJV`, 'ops/s', c.a.samples), result(`${s.name} validate, zod`, 'ops/s', c.b.samples), result(`${s.name} AJV / zod`, 'x', c.ratio.samples, 'target >= 3'));
    const text = JSON.stringify(s.sample);
    const e = compareOps(() => {
      const v = JSON.parse(text);
      return s.ajv(v) && JSON.stringify(v);
    }, () => JSON.stringify(s.zod.parse(JSON.parse(text))), 50_000);
    out.push(result(`${s.name} decode+validate+encode AJV / zod`, 'x', e.ratio.samples, 'JSON.parse/stringify shared by both'));
  }
  const batch = Array.from({ length: 100 }, (_, i) => ({ ...sampleServiceCall, tokens: i }));
  const ajvCall = structures[1]!.ajv;
  const b = compareOps(() => batch.every((x) => ajvCall(x)), () => batch.map((x) => ServiceCallDataZ.parse(x)), 2000);
  out.push(result('batch of 100 ServiceCalls AJV / zod', 'x', b.ratio.samples));

  const chat = compile(ChatCompletionSchema);
  for (const size of ['4kb', '64kb', '1mb'] as PayloadSize[]) {
    const text = loadPayload(size);
    const parsed = JSON.parse(text);
    const n = size === '1mb' ? 30 : size === '64kb' ? 500 : 5000;
    const v = compareOps(() => chat(parsed), () => ChatCompletionZ.parse(parsed), n * 10);
    out.push(result(`chat ${size} validate AJV / zod`, 'x', v.ratio.samples));
    const p = compareOps(() => chat(JSON.parse(text)), () => ChatCompletionZ.parse(JSON.parse(text)), n);
    out.push(result(`chat ${size} parse+validate AJV / zod`, 'x', p.ratio.samples, 'JSON.parse dominates at size'));
    // A validated parse is a parse plus a validation: at this size timing the two together only
    // measures noise, so the overhead is computed from each one's own rate, round by round.
    const pv = compareOps(() => JSON.parse(text), () => chat(parsed), n);
    const overhead = pv.ratio.samples.map((r) => 1 + r);
    out.push(result(`chat ${size} validated parse / bare JSON.parse`, 'x', overhead, size === '1mb' ? 'target <= 1.15; 1 + validate time / parse time' : '1 + validate time / parse time'));
  }

  const lines = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ ...sampleServiceCall, tokens: i }));
  const ajvMb: number[] = [];
  const zodMb: number[] = [];
  let kept: unknown[] = [];
  for (let r = 0; r < 3; r++) {
    kept = [];
    let base = await heapAfterGc();
    kept = lines.map((l) => {
      const v = JSON.parse(l);
      ajvCall(v);
      return v;
    });
    ajvMb.push(((await heapAfterGc()) - base) / 1048576);
    kept = [];
    base = await heapAfterGc();
    kept = lines.map((l) => ServiceCallDataZ.parse(JSON.parse(l)));
    zodMb.push(((await heapAfterGc()) - base) / 1048576);
    if (kept.length !== lines.length) throw new Error('lost objects');
  }
  out.push(result('heap per 100k validated ServiceCalls, AJV', 'MB', ajvMb), result('heap per 100k validated ServiceCalls, zod', 'MB', zodMb));
  return out;
}

await runStandalone(import.meta.url, run);
