import type { CallContext } from '../core/call-context.js';
import { PolicyError } from '../core/errors.js';
import { GrantSet } from './capabilities.js';
import { failing } from './next-safely.js';
import { resolvePolicyGateOptions, type PolicyGateOptions } from './options.js';
import type { CallNext, Invocation, Middleware, StreamNext } from './types.js';

/** The `ctx.attrs` key under which a caller adds requirements to one call. */
export const REQUIRES_ATTR = 'requires';

export type { PolicyGateOptions } from './options.js';

const NONE: readonly string[] = Object.freeze([]);

/**
 * Lets a call through only if every required capability is granted. Required = the service's
 * `requires` ∪ `service.rights(request)` ∪ extra ones the call asks for (`ctx.attrs.requires`).
 * Fails closed: a throwing `rights`, a malformed capability, anything unexpected is a denial.
 * A denial is a `PolicyError` (`E_POLICY`) listing required, granted and missing; nothing runs.
 *
 * @example
 * const svc = defineService({ name: 'fetch', module, requires: ['net.out'], rights: (r) => [`net.out:${new URL(r.url).host}`] });
 * const ex = new Executor({ middleware: [policyGate()] });
 * await ex.call(svc, { url: 'https://api.example.com/x' }, CallContext.new('b', { capabilities: ['net.out', 'net.out:*'] }));
 */
export function policyGate(options: PolicyGateOptions = {}): Middleware {
  const o = resolvePolicyGateOptions(options);
  // Function defaults live here: a schema default is data.
  const grantedOf = o.granted ?? ((inv: Invocation) => inv.ctx.capabilities);
  const extraOf = o.extra ?? defaultExtra;
  // Contexts are immutable and their capability arrays frozen: a context used for many calls
  // finds its compiled list here. Not a WeakMap of every list: most calls bring a fresh array
  // (a context each), and a WeakMap insert per call doubled this check's cost.
  let lastGranted: readonly string[] | undefined;
  let lastSet: GrantSet | undefined;

  const check = (inv: Invocation): PolicyError | undefined => {
    let required: readonly string[] = NONE;
    let granted: readonly string[] = NONE;
    try {
      required = requiredOf(inv, extraOf);
      granted = grantedOf(inv);
      if (!Array.isArray(granted)) throw new TypeError('granted capabilities must be an array');
      let set = granted === lastGranted ? lastSet! : undefined;
      if (set === undefined) {
        set = grantSetOf(granted);
        if (Object.isFrozen(granted)) {
          lastGranted = granted;
          lastSet = set;
        }
      }
      const missing = set.missing(required);
      return missing.length === 0 ? undefined : new PolicyError(required, granted, missing, { context: { service: inv.service.name } });
    } catch (err) {
      return new PolicyError(required, Array.isArray(granted) ? granted : NONE, [], { cause: err, context: { service: inv.service.name } });
    }
  };

  return {
    name: 'policyGate',
    call(inv: Invocation, next: CallNext): Promise<unknown> {
      const denied = check(inv);
      return denied === undefined ? next(inv) : Promise.reject(denied);
    },
    stream(inv: Invocation, next: StreamNext): AsyncIterable<unknown> {
      const denied = check(inv);
      return denied === undefined ? next(inv) : failing(denied);
    },
  };
}

// Contexts made per call carry a new (equal) array each time: also compile by content.
const byContent = new Map<string, GrantSet>();
const MAX_LISTS = 256;
const MAX_GRANTS = 32;
const NO_SPACE = /^\S+$/;

function grantSetOf(granted: readonly unknown[]): GrantSet {
  if (granted.length > MAX_GRANTS) return new GrantSet(granted);
  let key = '';
  for (const g of granted) {
    // Only strings without blanks join into a key no other list can produce.
    if (typeof g !== 'string' || !NO_SPACE.test(g)) return new GrantSet(granted);
    key += `${g}\n`;
  }
  let set = byContent.get(key);
  if (set === undefined) {
    set = new GrantSet(granted);
    if (byContent.size >= MAX_LISTS) byContent.clear();
    byContent.set(key, set);
  }
  return set;
}

function defaultExtra(inv: Invocation): readonly string[] | undefined {
  return attrRequires(inv.ctx);
}

function attrRequires(ctx: CallContext): readonly string[] | undefined {
  const v = ctx.attrs[REQUIRES_ATTR];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new TypeError(`ctx.attrs.${REQUIRES_ATTR} must be an array of capabilities`);
  return v as readonly string[];
}

/** The union of what the service, the request and the caller require; throws on anything malformed. */
function requiredOf(inv: Invocation, extraOf: (inv: Invocation) => readonly string[] | undefined): readonly string[] {
  const svc = inv.service;
  const rights = svc.rights === undefined ? undefined : svc.rights(inv.request);
  const extra = extraOf(inv);
  if (rights === undefined && extra === undefined) {
    for (const r of svc.requires) assertCapability(r);
    return svc.requires;
  }
  const out: string[] = [];
  for (const list of [svc.requires, rights, extra]) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new TypeError('capabilities must be an array');
    for (const r of list as readonly unknown[]) {
      assertCapability(r);
      if (!out.includes(r)) out.push(r);
    }
  }
  return out;
}

/** A non-string is a broken definition (a denial); a malformed string is simply never granted. */
function assertCapability(r: unknown): asserts r is string {
  if (typeof r !== 'string') throw new TypeError(`a required capability must be a string, got ${typeof r}`);
}
