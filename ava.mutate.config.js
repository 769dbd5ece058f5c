// Stryker's runs (test/mutation/mutate.mjs): the tests as compiled to .mutate-build/ by
// test/mutation/build.mjs (Stryker's buildCommand), run by plain node, no tsx.
export default {
  files: ['.mutate-build/test/unit/**/*.test.js', '.mutate-build/test/integration/**/*.test.js'],
  nodeArguments: ['--expose-gc'],
  workerThreads: false,
  timeout: '2m',
  concurrency: 2,
};
