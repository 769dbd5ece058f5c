import fc from 'fast-check';
import { CallpoolError, ErrorCodes } from '../../src/index.js';

/**
 * Arbitraries for the fuzz suite (test/unit/fuzz-*.test.ts): the inputs a careless or hostile
 * caller passes, and a check that an entry point ended in success or a documented coded error.
 */

const DOCUMENTED = new Set<string>(Object.values(ErrorCodes));

/** An object with an own `__proto__` key, as JSON.parse makes it. */
export const protoObject = (): unknown => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');

/** An object nested `depth` levels deep. */
export function deep(depth: number): unknown {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) v = { a: v, b: [i] };
  return v;
}

/** An object that contains itself. */
export function cyclic(): unknown {
  const a: Record<string, unknown> = { name: 'cyclic' };
  a['self'] = a;
  a['list'] = [a];
  return a;
}

/** Numbers callers get wrong: NaN, ±Infinity, -0, huge, tiny, fractions, negatives, big integers. */
export const weirdNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e308, -1e308, 1e-300, 5e-324, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53 + 2, 1e9, 0.5, -1, 1, 3e9),
  fc.double(),
  fc.integer({ min: -10, max: 100 }),
);

/** Any value at all, weighted toward the troublesome ones. */
export const weird: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: weirdNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false, '', 'x', '__proto__', 'redis://', 'http://', [], {}, 10n) },
  { weight: 1, arbitrary: fc.constant(null).map(() => protoObject()) },
  { weight: 1, arbitrary: fc.constant(null).map(() => deep(200)) },
  { weight: 1, arbitrary: fc.constant(null).map(() => cyclic()) },
  { weight: 1, arbitrary: fc.constant(null).map(() => Symbol('s')) },
  { weight: 1, arbitrary: fc.constant(null).map(() => () => {}) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.array(weirdNumber, { maxLength: 3 }) },
);

/**
 * An options object over `keys` (plus `__proto__` and an unknown key now and then), each
 * present or absent, with a weird value or a sane one from `sane`.
 */
export function options(keys: readonly string[], sane: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<unknown> {
  const fields = fc.array(fc.constantFrom(...keys, '__proto__', 'unknownOption'), { maxLength: keys.length + 1 });
  const obj = fields.chain((names) =>
    fc.tuple(...names.map((k) => (sane[k] ? fc.oneof(sane[k]!, weird) : weird))).map((values) => {
      const o: Record<string, unknown> = {};
      // defineProperty: `__proto__` becomes an own key, as JSON.parse would make it.
      names.forEach((k, i) => Object.defineProperty(o, k, { value: values[i], enumerable: true, writable: true, configurable: true }));
      return o;
    }),
  );
  return fc.oneof({ weight: 4, arbitrary: obj }, { weight: 1, arbitrary: weird });
}

/**
 * `CALLPOOL_FUZZ_SCALE` multiplies every property's run count (default 1, so the whole suite
 * stays fast): `CALLPOOL_FUZZ_SCALE=20 npx ava test/unit/fuzz-*.test.ts` digs deeper. fast-check
 * draws a new seed each run and prints it on failure.
 */
const SCALE = Number(process.env['CALLPOOL_FUZZ_SCALE'] ?? 1);
if (!(SCALE > 0 && SCALE <= 1000)) throw new Error(`CALLPOOL_FUZZ_SCALE must be a number in (0, 1000], got ${process.env['CALLPOOL_FUZZ_SCALE']}`);

/** fast-check parameters for `n` runs, scaled by `CALLPOOL_FUZZ_SCALE`. */
export function runs(n: number): { numRuns: number } {
  return { numRuns: Math.max(1, Math.round(n * SCALE)) };
}

export const RUNS = runs(150);

/** True for a CallpoolError with a documented code. */
export function isDocumented(e: unknown): boolean {
  return e instanceof CallpoolError && DOCUMENTED.has(e.code);
}

/** Runs `fn`; a throw must be a documented CallpoolError (else this throws, failing the property). */
export function settleSync<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!isDocumented(e)) throw new Error(`threw an uncoded ${describeError(e)}`, { cause: e });
    return undefined;
  }
}

/** Awaits `p` for at most `ms`: a rejection must be a documented CallpoolError, and it must settle. */
export async function settleAsync<T>(p: Promise<T>, ms = 5000): Promise<T | undefined> {
  // A hang is `ms` of event-loop time in which `p` could have settled. Time the loop spent
  // blocked (a synchronous property of another test in this process, thousands of runs under
  // CALLPOOL_FUZZ_SCALE) counts one tick at most, or a blocked loop would fail whatever waited.
  let timer: NodeJS.Timeout | undefined;
  let live = 0;
  let last = performance.now();
  const hang = new Promise<typeof HANG>((resolve) => {
    timer = setInterval(() => {
      const t = performance.now();
      live += Math.min(t - last, 2 * TICK_MS);
      last = t;
      if (live >= ms) resolve(HANG);
    }, TICK_MS);
  });
  try {
    const r = await Promise.race([p, hang]);
    if (r === HANG) throw new Error(`did not settle within ${ms} ms`);
    return r as T;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('did not settle')) throw e;
    if (!isDocumented(e)) throw new Error(`rejected with an uncoded ${describeError(e)}`, { cause: e });
    return undefined;
  } finally {
    clearInterval(timer);
  }
}

const TICK_MS = 50;
const HANG = Symbol('hang');

export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name} (${String((e as { code?: unknown }).code)}): ${e.message.slice(0, 300)}`;
  return String(e);
}
