/**
 * The pure redactor: secrets out of any value before it reaches a log, a hook, a metric label,
 * an error or the stats history. Values are copied, never mutated (errors have their own
 * in-place rewrite, `scrubError`, for errors still on their way to the caller).
 */

import { Type } from '@sinclair/typebox';
import { assertConfig, compile } from './validate.js';

export const REDACTED = '[redacted]';

/** Keys whose value is a secret whatever it looks like (compared lower-case, without `-`/`_`). */
const SECRET_KEYS = new Set(['authorization', 'proxyauthorization', 'apikey', 'xapikey', 'token', 'secret', 'password', 'passwd', 'cookie', 'setcookie', 'privatekey', 'clientsecret', 'accesstoken', 'refreshtoken', 'sessiontoken', 'idtoken']);
/** A key ending like this names a secret too (`openaiApiKey`, `client_secret`, `dbPassword`). */
const SECRET_SUFFIXES = ['apikey', 'token', 'secret', 'password'];

const MAX_DEPTH = 32;

export interface RedactorOptions {
  /** More key names to redact (any case; `-` and `_` ignored). */
  keys?: readonly string[];
  /** Exact secret values known ahead (an API key from config): masked wherever they occur. */
  secrets?: readonly string[];
  /** More patterns whose whole match is masked inside strings (use the `g` flag). */
  patterns?: readonly RegExp[];
}

export interface Redactor {
  /** A deep copy of `value` with every secret masked; cycles and depth are bounded. */
  (value: unknown): unknown;
  /** `text` with bearer tokens, `sk-` keys, `key=value` secrets and known secrets masked. */
  string(text: string): string;
  /** Whether a property with this name holds a secret. */
  isSecretKey(key: string): boolean;
  /**
   * Rewrites an error in place (message, stack, context, own fields, causes) and returns it; a
   * frozen error is replaced by a scrubbed copy of the same class (so its `code` and `instanceof` hold).
   */
  scrubError<E>(err: E): E;
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[-_\s]/g, '');
}

/** Secrets that show up inside free text: headers echoed in messages, query strings, JSON. */
const TEXT_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{6,}/g, `sk-${REDACTED}`],
  [
    /((?:proxy-)?authorization|x-api-key|api[-_]?key|access[-_]?token|refresh[-_]?token|token|client[-_]?secret|secret|password|passwd)("?\s*[:=]\s*"?)(?:(?:Bearer|Basic|Digest)\s+)?(?!\[redacted\])[^\s"'&,;}]+/gi,
    `$1$2${REDACTED}`,
  ],
  // A cookie header holds several `name=value` pairs: mask to the end of the line.
  [/((?:set-)?cookie)("?\s*[:=]\s*"?)(?!\[redacted\])[^"\r\n]+/gi, `$1$2${REDACTED}`],
];

/** `createRedactor`'s options (and the `redaction` middleware's): each list bounded. */
export const RedactorOptionsSchema = Type.Object(
  {
    /** More key names to redact (any case; `-` and `_` ignored); at most 1000. */
    keys: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 1000 })),
    /** Exact secret values known ahead (an API key from config); at most 1000. */
    secrets: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 1000 })),
    /** More patterns whose whole match is masked inside strings (use the `g` flag); at most 100. */
    patterns: Type.Optional(Type.Array(Type.Unsafe<RegExp>({ regexp: true }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
const validOptions = compile(RedactorOptionsSchema, { lazy: true });

/**
 * A redactor with more keys, known secrets and patterns than the built-in ones.
 * @throws ConfigError (`E_CONFIG`) naming each bad option
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  assertConfig(validOptions, options, 'redactor options');
  return build(options);
}

function build(options: RedactorOptions): Redactor {
  const extraKeys = new Set((options.keys ?? []).map(normalize));
  const secrets = (options.secrets ?? []).filter((s) => typeof s === 'string' && s.length >= 4);
  const patterns = options.patterns ?? [];

  const isSecretKey = (key: string): boolean => {
    const k = normalize(key);
    if (SECRET_KEYS.has(k) || extraKeys.has(k)) return true;
    for (const s of SECRET_SUFFIXES) if (k.endsWith(s)) return true;
    return false;
  };

  const string = (text: string): string => {
    let out = text;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
    for (const [re, by] of TEXT_PATTERNS) out = out.replace(re, by);
    for (const re of patterns) out = out.replace(re, REDACTED);
    return out;
  };

  const copy = (value: unknown, depth: number, seen: WeakSet<object>): unknown => {
    if (typeof value === 'string') return string(value);
    if (typeof value !== 'object' || value === null) {
      return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
    }
    if (seen.has(value)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[binary ${value.byteLength} bytes]`;
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((v) => copy(v, depth + 1, seen));
      if (value instanceof Map) return copyEntries(value.entries(), depth, seen);
      if (value instanceof Error) return copyError(value, depth, seen);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function' && !(value instanceof Date)) return copy(toJSON.call(value), depth + 1, seen);
      if (value instanceof Date) return value.toISOString();
      return copyEntries(Object.entries(value), depth, seen);
    } finally {
      seen.delete(value);
    }
  };

  const copyEntries = (entries: Iterable<[unknown, unknown]>, depth: number, seen: WeakSet<object>): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const key = String(k);
      if (isSecretKey(key)) out[key] = REDACTED;
      else {
        const c = copy(v, depth + 1, seen);
        if (c !== undefined) out[key] = c;
      }
    }
    return out;
  };

  const copyError = (err: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> => {
    const out: Record<string, unknown> = { name: err.name, message: string(err.message) };
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) out['code'] = code;
    Object.assign(out, copyEntries(Object.entries(err).filter(([k]) => k !== 'code'), depth, seen));
    if (err.cause !== undefined) out['cause'] = copy(err.cause, depth + 1, seen);
    return out;
  };

  const scrub = (err: unknown, seen: WeakSet<object>): void => {
    if (typeof err !== 'object' || err === null || seen.has(err)) return;
    seen.add(err);
    const e = err as Record<string, unknown> & { message?: unknown; stack?: unknown; cause?: unknown };
    for (const key of ['message', 'stack'] as const) {
      const v = e[key];
      if (typeof v === 'string') trySet(e, key, string(v));
    }
    for (const key of Object.keys(e)) {
      if (key === 'code' || key === 'retryable' || key === 'message' || key === 'stack') continue;
      const v = e[key];
      if (v instanceof Error) scrub(v, seen);
      else trySet(e, key, isSecretKey(key) ? REDACTED : copy(v, 0, new WeakSet()));
    }
    if (e.cause !== undefined) {
      if (typeof e.cause === 'object' && e.cause !== null) scrub(e.cause, seen);
      else trySet(e, 'cause', copy(e.cause, 0, new WeakSet()));
    }
  };

  const redactor = ((value: unknown) => copy(value, 0, new WeakSet())) as Redactor;
  redactor.string = string;
  redactor.isSecretKey = isSecretKey;
  redactor.scrubError = <E>(err: E): E => {
    if (typeof err !== 'object' || err === null) return (typeof err === 'string' ? string(err) : err) as E;
    if (Object.isFrozen(err)) return frozenCopy(err, copy(err, 0, new WeakSet())) as E;
    scrub(err, new WeakSet());
    return err;
  };
  return redactor;
}

/** Sets a property that may be read-only; an error that cannot be rewritten keeps its value. */
function trySet(target: Record<string, unknown>, key: string, value: unknown): void {
  if (target[key] === value) return;
  try {
    target[key] = value;
    if (target[key] === value) return;
  } catch {
    // A read-only own property: redefine it below.
  }
  try {
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: Object.prototype.propertyIsEnumerable.call(target, key) });
  } catch {
    // Not configurable: `scrubError` copies frozen errors before it gets here.
  }
}

/** A scrubbed stand-in for a frozen error, of its class, with the redacted fields. */
function frozenCopy(original: object, fields: unknown): object {
  const out = Object.create(Object.getPrototypeOf(original) as object | null) as Record<string, unknown>;
  if (typeof fields === 'object' && fields !== null) {
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'name' && original instanceof Error) continue;
      Object.defineProperty(out, k, { value: v, writable: true, configurable: true, enumerable: k !== 'message' && k !== 'cause' });
    }
  }
  return out;
}

/** The default redactor: the built-in keys and patterns. */
export const redact: Redactor = build({});
