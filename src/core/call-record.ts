import type { ServiceCall } from './service-call.js';
import type { ServiceCallData } from './schemas.js';

/** Longest error message a history record keeps (an error may quote a whole response body). */
export const RECORD_MESSAGE_CHARS = 1000;

/**
 * What `stats().history` keeps of a settled call: ids, status, times, tokens, the error's code
 * and message (cut to `RECORD_MESSAGE_CHARS`; scrubbed of secrets when `stats()` hands it out).
 * Never the request, the result or the error object, so a history of large calls stays small.
 */
export function callRecord(call: ServiceCall): ServiceCallData {
  return recordInto(call.toJSON(), call);
}

/**
 * Overwrites `slot` with `call`'s record and returns it: a history ring reuses its records,
 * so remembering a call allocates nothing unless it failed.
 */
export function recordInto(slot: ServiceCallData, call: ServiceCall): ServiceCallData {
  slot.id = call.id;
  slot.service = call.service;
  slot.branchId = call.ctx.branchId;
  slot.status = call.status;
  slot.createdAt = call.createdAt;
  slot.queuedAt = call.queuedAt ?? null;
  slot.startedAt = call.startedAt ?? null;
  slot.endedAt = call.endedAt ?? null;
  slot.tokens = call.tokens;
  const e = call.status === 'COMPLETED' ? null : call.toJSON().error;
  slot.error = e !== null && e.message.length > RECORD_MESSAGE_CHARS ? { code: e.code, message: `${own(e.message.slice(0, RECORD_MESSAGE_CHARS))}...` } : e;
  return slot;
}

/** A copy of a string that does not point into the one it was cut from (V8 slices share their parent). */
function own(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
