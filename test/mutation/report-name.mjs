import { createHash } from 'node:crypto';

/**
 * The name of a run's report and sandbox: the target with non-word runs as dashes
 * (`src/limits/sliding-window.ts:33-33` -> `limits-sliding-window-ts-33-33`). A long list of line
 * ranges is cut and ends in a hash of the whole, so the name stays a valid file name.
 */
export function reportName(target) {
  const name = target.replace(/^src\//, '').replace(/\W+/g, '-');
  if (name.length <= 120) return name;
  return `${name.slice(0, 100)}-${createHash('sha1').update(name).digest('hex').slice(0, 12)}`;
}
