import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { ConfigError, ValidationError, type Issue } from './errors.js';

/**
 * One AJV instance for the whole library: schemas are written once in TypeBox (which also gives
 * the static type) and compiled once here into a validator — the fast path msgspec was in Python.
 */
export const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });
/** Used only after a check fails, to list every problem at once (collecting them all is ~2.5x slower). */
const ajvAll = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });

export interface Validator<T> {
  (value: unknown): value is T;
  readonly schema: TSchema;
  /** Issues of the last failed check (AJV errors mapped to path + rule). */
  issues(): Issue[];
}

export function compile<S extends TSchema>(schema: S): Validator<Static<S>> {
  const fn: ValidateFunction = ajv.compile(schema);
  let full: ValidateFunction | undefined;
  let last: unknown;
  const check = ((value: unknown) => {
    if (fn(value)) return true;
    last = value;
    return false;
  }) as Validator<Static<S>>;
  Object.defineProperty(check, 'schema', { value: schema });
  Object.defineProperty(check, 'issues', {
    value: () => {
      full ??= ajvAll.compile(schema);
      return full(last) ? [] : toIssues(full.errors);
    },
  });
  return check;
}

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
