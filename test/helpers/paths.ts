import { fileURLToPath } from 'node:url';

/**
 * Tests run from source under tsx; the benchmark runs the same files compiled to .bench-build/
 * (plain node, as users run callpool). These name files either way.
 */
const fromSource = import.meta.url.endsWith('.ts');

/** The repository root. */
export const ROOT = fileURLToPath(new URL(fromSource ? '../../' : '../../../', import.meta.url));

/** The extension of this tree's own modules: `.ts` from source, `.js` compiled. */
export const EXT = fromSource ? '.ts' : '.js';

/** Node flags a child process needs to run this tree's modules. */
export const CHILD_EXEC_ARGV: string[] = fromSource ? ['--import', 'tsx'] : [];
