import { now } from '../core/clock.js';
import { listen, type ExecutorEvents } from '../core/events.js';
import { ConfigError } from '../core/errors.js';
import { HookRegistry, HookType, type HookEvent } from './hook-registry.js';
import { resolveHooksOptions, type HooksOptions } from './options.js';
import { callNext, streamNext } from './next-safely.js';
import { observeStream } from './observe-stream.js';
import { noop } from '../core/noop.js';
import { redact as defaultRedactor, type Redactor } from '../core/redact.js';
import type { CallNext, Invocation, Middleware, StreamNext } from './types.js';

export type { HooksOptions } from './options.js';

type BaseEvent = Omit<HookEvent, 'type'>;

const STREAM_TYPES = [HookType.PRE_STREAM, HookType.STREAM_CHUNK, HookType.POST_STREAM, HookType.STREAM_ERROR] as const;

/**
 * Runs a `HookRegistry`'s hooks around every call and stream: PRE_CALL before the work, then
 * POST_CALL or CALL_ERROR; PRE_STREAM, STREAM_CHUNK for each chunk (which may replace it),
 * then POST_STREAM or STREAM_ERROR; and RATE_LIMITED / QUEUE_FULL as the executor reports them.
 * Each emit is awaited, bounded by the hooks' timeouts; a hook never fails the call. With no
 * hook registered for a kind, the middleware costs a map lookup.
 */
export function hooks(registry: HookRegistry, options: HooksOptions = {}): Middleware {
  if (!(registry instanceof HookRegistry)) {
    throw new ConfigError('hooks', [{ path: '/registry', rule: 'instanceOf', message: 'must be a HookRegistry' }]);
  }
  const o = resolveHooksOptions(options);
  const scrub: (v: unknown) => unknown = o.redact === false ? (v) => v : o.redact ?? defaultRedactor;
  let detach: (() => void) | undefined;

  const base = (inv: Invocation): BaseEvent => ({
    service: inv.service.name,
    callId: inv.call.id,
    kind: inv.kind,
    attempt: inv.attempt,
    ctx: scrub(inv.ctx.toJSON()),
    request: scrub(inv.request),
  });

  const emitLater = (type: HookType, make: () => BaseEvent): Promise<unknown> | undefined =>
    registry.has(type) ? registry.emit(type, { ...make(), type }) : undefined;

  return {
    name: 'hooks',
    call(inv: Invocation, next: CallNext): Promise<unknown> {
      if (!registry.has(HookType.PRE_CALL) && !registry.has(HookType.POST_CALL) && !registry.has(HookType.CALL_ERROR)) return next(inv);
      const start = now();
      let ev: BaseEvent | undefined;
      const event = () => (ev ??= base(inv));
      const pre = emitLater(HookType.PRE_CALL, event);
      const run = pre === undefined ? callNext(next, inv) : pre.then(() => next(inv));
      return run.then(
        async (result) => {
          await emitLater(HookType.POST_CALL, () => ({ ...event(), result: scrub(result), durationMs: now() - start }));
          return result;
        },
        async (err: unknown) => {
          await emitLater(HookType.CALL_ERROR, () => ({ ...event(), error: scrub(err), durationMs: now() - start }));
          throw err;
        },
      );
    },

    stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      if (!STREAM_TYPES.some((t) => registry.has(t))) return next(inv);
      const start = now();
      let ev: BaseEvent | undefined;
      const event = () => (ev ??= base(inv));
      let index = 0;
      const source = registry.has(HookType.PRE_STREAM) ? afterPre(() => emitLater(HookType.PRE_STREAM, event), () => next(inv)) : streamNext(next, inv);
      return observeStream(source, {
        chunk: (chunk) => (registry.has(HookType.STREAM_CHUNK) ? registry.transform(chunk, { ...event(), type: HookType.STREAM_CHUNK, index: index++ }) : (index++, chunk)),
        end: async () => {
          await emitLater(HookType.POST_STREAM, () => ({ ...event(), chunks: index, durationMs: now() - start }));
        },
        error: async (err) => {
          await emitLater(HookType.STREAM_ERROR, () => ({ ...event(), chunks: index, error: scrub(err), durationMs: now() - start }));
          return err;
        },
      });
    },

    attach(events: ExecutorEvents): void {
      detach = listen(events, {
        rateLimited: (e) => {
          emitLater(HookType.RATE_LIMITED, () => ({ service: e.service, callId: e.callId, ctx: scrub(e.ctx.toJSON()), waitMs: e.waitMs, reason: e.reason }))?.catch(noop);
        },
        queueFull: (e) => {
          emitLater(HookType.QUEUE_FULL, () => ({ service: e.service, callId: e.ctx.callId, ctx: scrub(e.ctx.toJSON()), capacity: e.capacity }))?.catch(noop);
        },
      });
    },

    close(): void {
      detach?.();
      detach = undefined;
    },
  };
}

/** Starts the stream only once the PRE_STREAM hooks are done (or timed out). */
async function* afterPre(pre: () => Promise<unknown> | undefined, start: () => AsyncIterable<unknown>): AsyncGenerator<unknown> {
  await pre();
  yield* start();
}
