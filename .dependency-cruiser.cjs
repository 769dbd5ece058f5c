/**
 * `npm run lint:deps`: the module graph keeps the README's layers (imports point down:
 * harness / cli / models -> executor -> telemetry / middleware / pool / limits / transport /
 * services -> core) and has no cycle. Type-only imports count too: a layer that needs an upper layer's
 * type has its boundary in the wrong place.
 */
const LOWER = '^src/(middleware|pool|limits|transport|services|telemetry)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A module cycle: break it by moving the shared part down.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-the-bottom',
      severity: 'error',
      comment: 'src/core/ imports nothing of callpool outside src/core/.',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'lower-layers-do-not-import-up',
      severity: 'error',
      comment: 'middleware, pool, limits, transport, services and telemetry never import the executor, the models, the harness, the CLI or the public index.',
      from: { path: LOWER },
      to: { path: '^src/(executor/|models/|harness/|cli\\.ts$|index\\.ts$)' },
    },
    {
      name: 'executor-does-not-import-up',
      severity: 'error',
      from: { path: '^src/executor/' },
      to: { path: '^src/(models/|harness/|cli\\.ts$|index\\.ts$)' },
    },
    {
      name: 'harness-does-not-import-the-cli',
      severity: 'error',
      from: { path: '^src/harness/' },
      to: { path: '^src/cli\\.ts$' },
    },
    {
      name: 'src-does-not-import-workers-or-tests',
      severity: 'error',
      comment: 'workers/ holds entry files and handler modules loaded by URL, never imported by src/.',
      from: { path: '^src/' },
      to: { path: '^(workers|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
