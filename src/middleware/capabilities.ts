import { ConfigError } from '../core/errors.js';
/**
 * Capability matching. A capability is a non-empty string without spaces, its parts separated
 * by `.` or `:` (`net.out:api.example.com`, `fs.read:/tmp/x`). Wildcards exist only on the
 * granted side, and only as a whole last part: `*` grants everything, `net.out:*` grants every
 * `net.out:<something>`, `a.*` grants `a.b` and `a.b.c` but neither `a` nor `ab`. Anything else
 * is compared exactly: `net.out:api.example.com` never covers `net.out:api.example.com.evil.io`.
 * A required capability holding `*`, or a malformed string on either side, never matches.
 */

const VALID = /^[^\s*]+$/;
const WILDCARD = /^[^\s*]*[.:]\*$/;

/** Whether `cap` is a well-formed required capability (no wildcard, no blank). */
export function isCapability(cap: unknown): cap is string {
  return typeof cap === 'string' && VALID.test(cap);
}

/** Whether `grant` is a well-formed granted capability: exact, `*`, or `<prefix>.*` / `<prefix>:*`. */
export function isGrant(grant: unknown): grant is string {
  return typeof grant === 'string' && (grant === '*' || VALID.test(grant) || WILDCARD.test(grant));
}

/** Whether one granted capability covers one required capability. */
export function covers(grant: string, required: string): boolean {
  if (!isCapability(required) || !isGrant(grant)) return false;
  if (grant === '*') return true;
  if (!grant.endsWith('*')) return grant === required;
  // `prefix.*`: the required one must start with `prefix.` and have something after it.
  const stem = grant.slice(0, -1);
  return required.length > stem.length && required.startsWith(stem);
}

/**
 * A compiled set of grants: exact grants in a `Set`, wildcard stems in a list. Build it once per
 * granted list (the gate caches it per context) and ask it many times.
 */
export class GrantSet {
  readonly granted: readonly string[];
  readonly #exact = new Set<string>();
  readonly #stems: string[] = [];
  #all = false;

  /** @throws ConfigError (`E_CONFIG`) when `granted` is not an array (entries that are no grant are ignored) */
  constructor(granted: readonly unknown[]) {
    if (!Array.isArray(granted)) throw new ConfigError('grants', [{ path: '/', rule: 'type', message: 'must be an array of capability strings' }]);
    const kept: string[] = [];
    for (const g of granted) {
      if (!isGrant(g)) continue;
      kept.push(g);
      if (g === '*') this.#all = true;
      else if (g.endsWith('*')) this.#stems.push(g.slice(0, -1));
      else this.#exact.add(g);
    }
    this.granted = kept;
  }

  has(required: string): boolean {
    if (!isCapability(required)) return false;
    if (this.#all || this.#exact.has(required)) return true;
    for (const stem of this.#stems) if (required.length > stem.length && required.startsWith(stem)) return true;
    return false;
  }

  /** The required capabilities not covered, in the order given (duplicates once). */
  missing(required: Iterable<string>): string[] {
    const out: string[] = [];
    for (const r of required) if (!this.has(r) && !out.includes(r)) out.push(r);
    return out;
  }
}
