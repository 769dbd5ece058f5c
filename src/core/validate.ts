import { createRequire } from 'node:module';
import type { Ajv as AjvInstance, ErrorObject, ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { ConfigError, ValidationError, type Issue } from './errors.js';

// AJV is CommonJS: required, it loads in 57 ms of CPU against 72 through import(), which first
// scans its entry for named exports; every process and worker thread that validates pays it.
const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
type Ajv = AjvInstance;

/**
 * One AJV instance for the whole library: schemas are written once in TypeBox (which also gives
 * the static type) and compiled once here into a validator — the fast path msgspec was in Python.
 * - `strictNumbers`: NaN and ±Infinity are not numbers to any schema (JSON cannot carry them either).
 * - `code.optimize: false`: AJV's optimising pass took about a third of each compile (the mock
 *   upstream's options 120-134 -> 79-87 ms, a chat request and response 12.2 -> 9.4 ms) and the
 *   validators it leaves check a chat request or response no faster (16-22 ns either way).
 * - `validateSchema: false`: `compileNow` checks against the meta-schema only the schemas that
 *   need it (see there).
 * - `inlineRefs: false`: a schema used at several places is compiled once (see `hoistRepeats`).
 */
const ajvOptions = { strict: false, strictNumbers: true, coerceTypes: false, useDefaults: false, code: { optimize: false }, validateSchema: false, inlineRefs: false } as const;
export const ajv = withKeywords(new Ajv({ ...ajvOptions, allErrors: false }));
/** Used only after a check fails, to list every problem at once (collecting them all is ~2.5x slower). */
const ajvAll = withKeywords(new Ajv({ ...ajvOptions, allErrors: true }));

/** `callable: true`: the value is a function (options that take callbacks; see `Fn` in bounds.ts). */
function withKeywords(a: Ajv): Ajv {
  a.addKeyword({ keyword: 'callable', schemaType: 'boolean', errors: false, validate: (on: boolean, data: unknown) => !on || typeof data === 'function' });
  a.addKeyword({ keyword: 'regexp', schemaType: 'boolean', errors: false, validate: (on: boolean, data: unknown) => !on || data instanceof RegExp });
  // What ioredis would otherwise refuse later with an uncoded ERR_INVALID_URL.
  a.addFormat('http-url', (s: string) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol));
  a.addFormat('redis-url', (s: string) => URL.canParse(s) && /^rediss?:$/.test(new URL(s).protocol));
  return a;
}

export interface Validator<T> {
  (value: unknown): value is T;
  readonly schema: TSchema;
  /** Issues of the last failed check (AJV errors mapped to path + rule). */
  issues(): Issue[];
}

/**
 * `lazy`: compiled at the first check instead of now, and not checked against the meta-schema.
 * For the library's own schemas, which always compile: importing callpool then compiles nothing
 * (compiling them all was over half of the import's CPU time).
 * @throws ConfigError (`E_CONFIG`) when `schema` is not a schema AJV can compile (the AJV error as `cause`)
 */
export function compile<S extends TSchema>(schema: S, options: { lazy?: boolean } = {}): Validator<Static<S>> {
  let fn = options.lazy === true ? undefined : compileNow(schema, true);
  let full: ValidateFunction | undefined;
  let last: unknown;
  const check = ((value: unknown) => {
    if ((fn ??= compileNow(schema, false))(value)) return true;
    last = value;
    return false;
  }) as Validator<Static<S>>;
  Object.defineProperty(check, 'schema', { value: schema });
  Object.defineProperty(check, 'issues', {
    value: () => {
      full ??= ajvAll.compile(hoistRepeats(schema));
      return full(last) ? [] : toIssues(full.errors);
    },
  });
  return check;
}

/**
 * `checkSchema`: check `schema` against the JSON Schema meta-schema first, as AJV does by
 * default. The library's own (lazy) schemas skip it: it compiled the meta-schema, about 30 ms
 * of CPU, in every worker thread that validated a response.
 */
function compileNow(schema: TSchema, checkSchema: boolean): ValidateFunction {
  try {
    if (checkSchema && !ajvAll.validateSchema(schema)) throw new Error(`schema is invalid: ${ajvAll.errorsText(ajvAll.errors)}`);
    return ajv.compile(hoistRepeats(schema));
  } catch (err) {
    throw new ConfigError('schema', [{ path: '/', rule: 'schema', message: `cannot be compiled: ${err instanceof Error ? err.message : String(err)}` }], { cause: err });
  }
}

// Keywords whose value is a schema, or an array or map of schemas: the places a repeat can be.
const ONE = ['items', 'additionalProperties', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties'];
const MANY = ['anyOf', 'oneOf', 'allOf', 'prefixItems', 'items'];
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function eachChild(node: Node, visit: (child: Node, replace: (to: Node) => void) => void): void {
  for (const k of ONE) {
    const v = node[k];
    if (isNode(v)) visit(v, (to) => (node[k] = to));
  }
  for (const k of MANY) {
    const v = node[k];
    if (Array.isArray(v)) v.forEach((c, i) => isNode(c) && visit(c, (to) => (v[i] = to)));
  }
  for (const k of MAP) {
    const v = node[k];
    if (isNode(v)) for (const [name, c] of Object.entries(v)) if (isNode(c)) visit(c, (to) => (v[name] = to));
  }
}

const hoisted = new WeakMap<object, object>();

/**
 * The smallest repeat worth a reference: a reference is a call, which costs more than a few
 * inlined keywords (a chat response with a 3-node union referenced checked in 31 ns, inlined 21).
 */
const MIN_REPEAT_NODES = 5;

/**
 * The schema AJV compiles. TypeBox composes schemas by reference: the mock upstream's options
 * hold one route's options six times (defaults and five routes), the soak fixture holds them
 * again. AJV generates the code of each place anew; here an object or union schema of at least
 * `MIN_REPEAT_NODES` nodes found at more than one place moves to `$defs` and each place refers
 * to it, so its code is generated once. A place is known by what it holds, not by its object:
 * `Type.Optional()` makes a shallow copy, so six optional uses of one schema are six objects
 * with the same properties. Errors name the same data paths. A schema with no such repeat is
 * compiled as it is.
 */
function hoistRepeats(schema: TSchema): object {
  const done = hoisted.get(schema);
  if (done !== undefined) return done;
  const ids = new Map<unknown, number>();
  const idOf = (v: unknown): number => {
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = ids.size));
    return id;
  };
  // Each node's key is made once: `visit` and `copy` both ask for it.
  const keys = new Map<Node, string>();
  const held = (node: Node): string => {
    let key = keys.get(node);
    if (key === undefined) {
      key = Object.keys(node)
        .sort()
        .map((k) => {
          const v = node[k];
          return `${k}=${typeof v === 'object' && v !== null ? `#${idOf(v)}` : String(JSON.stringify(v))}`;
        })
        .join(',');
      keys.set(node, key);
    }
    return key;
  };
  const places = new Map<string, { node: Node; count: number; size: number }>();
  const visit = (node: Node): number => {
    const key = held(node);
    const place = places.get(key);
    if (place !== undefined) {
      place.count++;
      return place.size;
    }
    const entry = { node, count: 1, size: 1 };
    places.set(key, entry);
    eachChild(node, (child) => (entry.size += visit(child)));
    return entry.size;
  };
  visit(schema as Node);
  const repeats = [...places].filter(([, p]) => p.count > 1 && p.size >= MIN_REPEAT_NODES && (p.node['type'] === 'object' || Array.isArray(p.node['anyOf'])));
  if (repeats.length === 0) {
    hoisted.set(schema, schema);
    return schema;
  }
  const names = new Map(repeats.map(([key], i) => [key, `#/$defs/repeat${i}`]));
  const copy = (node: Node): Node => {
    const out: Node = { ...node };
    for (const k of MANY) if (Array.isArray(out[k])) out[k] = [...(out[k] as unknown[])];
    for (const k of MAP) if (isNode(out[k])) out[k] = { ...(out[k] as Node) };
    eachChild(out, (child, replace) => {
      const ref = names.get(held(child));
      replace(ref === undefined ? copy(child) : { $ref: ref });
    });
    return out;
  };
  const root = copy(schema as Node);
  root['$defs'] = { ...(isNode(root['$defs']) ? root['$defs'] : {}), ...Object.fromEntries(repeats.map(([, p], i) => [`repeat${i}`, copy(p.node)])) };
  hoisted.set(schema, root);
  return root;
}

const FORMAT_MESSAGES: Record<string, string> = {
  'redis-url': 'must be a redis:// or rediss:// URL',
  'http-url': 'must be an http:// or https:// URL',
};

export function toIssues(errors: readonly ErrorObject[] | null | undefined): Issue[] {
  if (!errors) return [];
  return errors.map((e) => {
    let path = e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      path = `${path}/${String(e.params['missingProperty'])}`;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path = `${path}/${String(e.params['additionalProperty'])}`;
      message = 'is not an allowed property';
    } else if (e.keyword === 'format') {
      message = FORMAT_MESSAGES[String(e.params['format'])] ?? `must be a valid ${String(e.params['format'])}`;
    } else if (e.keyword === 'callable') {
      message = 'must be a function';
    } else if (e.keyword === 'regexp') {
      message = 'must be a RegExp';
    } else if (e.keyword === 'enum' || e.keyword === 'const') {
      message = `${message}: ${JSON.stringify(e.params['allowedValues'] ?? e.params['allowedValue'])}`;
    }
    return { path, rule: e.keyword, message };
  });
}

/** Validates or throws `ValidationError` naming every bad field. */
export function assertValid<T>(check: Validator<T>, value: unknown, what: string): asserts value is T {
  if (!check(value)) throw new ValidationError(what, check.issues());
}

/** Validates configuration or throws `ConfigError` naming every bad field. */
export function assertConfig<T>(check: Validator<T>, value: unknown, what: string): asserts value is T {
  if (!check(value)) throw new ConfigError(what, check.issues());
}

/**
 * Options resolved against their schema: checked (every problem at once, `E_CONFIG`), then each
 * absent property whose schema has a `default` gets it (nested objects too). The schema is the
 * one place a default is written; the input is never mutated.
 */
export function optionsResolver<S extends TSchema, R = Static<S>>(schema: S, what: string): (value: unknown) => R {
  const check = compile(schema, { lazy: true });
  return (value) => {
    assertConfig(check, value, what);
    return withDefaults(schema, value) as R;
  };
}

/** `value` with the schema's defaults filled in where it has none (copies objects it changes). */
export function withDefaults(schema: TSchema, value: unknown): unknown {
  // A default is data (a plain value or object); its own nested defaults are filled below.
  if (value === undefined && schema.default !== undefined) value = structuredClone(schema.default);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  if (schema['if'] !== undefined) {
    const key = (schema['if'] as { required?: string[] }).required?.[0];
    return withDefaults((key === undefined || key in value ? schema['then'] : schema['else']) as TSchema, value);
  }
  const props = schema['properties'] as Record<string, TSchema> | undefined;
  if (props === undefined) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(props)) {
    const own = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
    const filled = withDefaults(props[key]!, own);
    if (filled !== own) (out ??= { ...value })[key] = filled;
  }
  return out ?? value;
}
