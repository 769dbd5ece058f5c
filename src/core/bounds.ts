import { Type, type NumberOptions, type TUnsafe } from '@sinclair/typebox';

/**
 * The ranges options may take, written once. Every numeric option has a finite range that
 * means something: no unbounded queue, no window of a nanosecond, no
 * timer Node would clamp to 1 ms.
 */

/** The longest delay a Node timer takes (2^31-1 ms, about 24.8 days); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The longest rate window: one day. */
export const MAX_WINDOW_MS = 86_400_000;

/** A whole number in [min, max]. */
export function Int(min: number, max: number, options: NumberOptions = {}) {
  return Type.Integer({ minimum: min, maximum: max, ...options });
}

/** A duration in ms, > 0 (>= 0 with `zero`), at most `max` (a timer's limit by default). */
export function Ms(options: NumberOptions & { zero?: boolean; max?: number } = {}) {
  const { zero, max, ...rest } = options;
  return Type.Number({ ...(zero ? { minimum: 0 } : { exclusiveMinimum: 0 }), maximum: max ?? MAX_TIMER_MS, ...rest });
}

/** A function option: AJV checks only that it is one (the `callable` keyword, see validate.ts). */
export function Fn<F>(options: { description?: string } = {}): TUnsafe<F> {
  return Type.Unsafe<F>({ callable: true, ...options });
}
