// Stryker's runs (test/mutation/mutate.mjs): the tests as compiled to .mutate-build/ by
// test/build-js.mjs (Stryker's buildCommand), run by plain node, no tsx.
export default {
  files: ['.mutate-build/test/unit/**/*.test.js', '.mutate-build/test/integration/**/*.test.js'],
  nodeArguments: ['--expose-gc'],
  // As in the other configurations: no real-time observer beside other test files.
  environmentVariables: { CALLPOOL_OBSERVER_REALTIME: '0' },
  workerThreads: false,
  timeout: '2m',
  // Stryker runs two mutants at once (stryker.config.mjs): one test file at a time in each keeps
  // the footprint of one `ava --concurrency 2` run.
  concurrency: 1,
};
