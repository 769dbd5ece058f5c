import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_FIXTURE = 'default';

/**
 * The folder of the callpool package itself: the nearest `package.json` named `callpool` above
 * this file. Walking up works alike from `src/harness/` (run by tsx) and `dist/src/harness/`.
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'callpool') return dir;
      } catch {
        // An unreadable package.json is not ours; keep walking.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Where a fixture named on the command line lives: the path as given (relative to the cwd),
 * else the package's own `fixtures/` folder, each also tried with `.json` added. `undefined`
 * when none exists.
 */
export function resolveFixture(name: string = DEFAULT_FIXTURE, cwd: string = process.cwd()): string | undefined {
  const names = name.endsWith('.json') ? [name] : [name, `${name}.json`];
  const candidates = names.map((n) => resolve(cwd, n));
  const root = packageRoot();
  if (root !== undefined && !isAbsolute(name)) {
    for (const n of names) candidates.push(join(root, 'fixtures', n), join(root, n));
  }
  return candidates.find((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true);
}
