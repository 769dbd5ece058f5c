import { fileURLToPath } from 'node:url';

/**
 * `npm test` runs the tests from source under tsx; `npm run test:fast` runs them compiled to
 * .test-build/ and the benchmark to .bench-build/ (plain node, as users run callpool). These
 * name files either way.
 */
const fromSource = import.meta.url.endsWith('.ts');

/** The repository root. */
export const ROOT = fileURLToPath(new URL(fromSource ? '../../' : '../../../', import.meta.url));

/** The root of this tree's modules: ROOT from source, the build directory compiled. */
export const TREE = fileURLToPath(new URL('../../', import.meta.url));

/** The extension of this tree's own modules: `.ts` from source, `.js` compiled. */
export const EXT = fromSource ? '.ts' : '.js';

/** Node flags a child process needs to run this tree's modules. */
export const CHILD_EXEC_ARGV: string[] = fromSource ? ['--import', 'tsx'] : [];
