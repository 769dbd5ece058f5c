import { redact } from '../core/redact.js';
import { CancelledError, DeadlineExceededError, type CallpoolError } from '../core/errors.js';
import type { ServiceCallData } from '../core/schemas.js';
import { CALL_STATE, type Invocation } from '../middleware/types.js';
import type { CallEntry } from './call-entry.js';

/** The invocation handed to the onion; its `signal` is only made when someone reads it. */
export function invocation(entry: CallEntry): Invocation {
  return {
    kind: entry.kind,
    service: entry.service,
    request: entry.request,
    ctx: entry.ctx,
    call: entry.call,
    attempt: 1,
    [CALL_STATE]: entry,
    get signal() {
      return entry.handle.signal;
    },
  };
}

/** How a call ended. */
export type SettledStatus = 'COMPLETED' | 'FAILED' | 'CANCELLED';

export function statusOf(err: unknown): 'FAILED' | 'CANCELLED' {
  return err instanceof CancelledError ? 'CANCELLED' : 'FAILED';
}

export function cancelled(reason: unknown): CallpoolError {
  if (reason instanceof CancelledError || reason instanceof DeadlineExceededError) return reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted by the caller';
  return new CancelledError(text, { cause: reason });
}

export async function* flatten(source: Promise<AsyncIterable<unknown>>): AsyncGenerator<unknown> {
  yield* await source;
}

/** Stats leave the process (logs, dashboards): error messages in history are scrubbed of secrets. */
export function scrubHistory(d: ServiceCallData): ServiceCallData {
  return d.error === null ? d : { ...d, error: { code: d.error.code, message: redact.string(d.error.message) } };
}

