import { ConfigError, type Issue } from '../core/errors.js';

/** Collects option problems so a factory reports them all at once, each naming its option. */
export class OptionIssues {
  readonly #issues: Issue[] = [];
  constructor(readonly what: string) {}

  /** A finite number >= `min` (> `min` when `exclusive`), an integer when `integer`. */
  number(name: string, value: unknown, min: number, flags: { integer?: boolean; exclusive?: boolean; max?: number } = {}): void {
    if (value === undefined) return;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (flags.exclusive ? value > min : value >= min) &&
      (flags.max === undefined || value <= flags.max) &&
      (!flags.integer || Number.isInteger(value));
    if (!ok) {
      const range = `${flags.exclusive ? '>' : '>='} ${min}${flags.max === undefined ? '' : ` and <= ${flags.max}`}`;
      this.#issues.push({ path: `/${name}`, rule: 'range', message: `Expected \`${name}\` to be a finite ${flags.integer ? 'integer' : 'number'} ${range}, got ${String(value)}` });
    }
  }

  fn(name: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'function') {
      this.#issues.push({ path: `/${name}`, rule: 'type', message: `Expected \`${name}\` to be a function, got ${typeof value}` });
    }
  }

  add(issue: Issue): void {
    this.#issues.push(issue);
  }

  /** @throws ConfigError (`E_CONFIG`) listing every problem found */
  throwIfAny(): void {
    if (this.#issues.length > 0) throw new ConfigError(this.what, this.#issues);
  }
}
