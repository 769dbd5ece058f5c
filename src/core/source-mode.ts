/**
 * Whether callpool runs from its TypeScript source (tests, development, under tsx) or from its
 * build (`dist/`, plain node). Decided once, here, for everything that must know: where the
 * worker entry is, and whether a worker thread must register tsx to import a `.ts` handler.
 */
export const fromSource: boolean = import.meta.url.endsWith('.ts');

/**
 * A file of the package by its path from the repository root (`workers/entry`), with this
 * tree's extension: from source `src/core/` and from the build `dist/src/core/` are both two
 * levels below the root that holds `workers/`.
 */
export function packageFile(pathFromRoot: string, ext: { source: string; build: string }): URL {
  return new URL(`../../${pathFromRoot}${fromSource ? ext.source : ext.build}`, import.meta.url);
}

/**
 * `execArgv` for a child process forked from this tree: none from the build; from source, this
 * process's flags with tsx's hook added if they lack it.
 */
export function childExecArgv(): string[] {
  if (!fromSource) return [];
  const execArgv = [...process.execArgv];
  if (!execArgv.some((a, i) => a === 'tsx' && (execArgv[i - 1] === '--import' || execArgv[i - 1] === '--loader'))) execArgv.push('--import', 'tsx');
  return execArgv;
}
