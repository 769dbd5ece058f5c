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
  const data = call.toJSON();
  const e = data.error;
  if (e !== null && e.message.length > RECORD_MESSAGE_CHARS) data.error = { code: e.code, message: `${own(e.message.slice(0, RECORD_MESSAGE_CHARS))}...` };
  return data;
}

/** A copy of a string that does not point into the one it was cut from (V8 slices share their parent). */
function own(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
