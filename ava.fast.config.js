// `npm run test:fast`: the suite less what is slow by nature (`npm test` runs everything), on the
// tests compiled to plain JavaScript (test/build-js.mjs, .test-build/): no tsx in each ava
// process, worker thread and child process. Left out: test/perf (measurements), the soak runs
// (test/integration/soak-*), and the tests that build or run the package whole: package (npm
// pack and install, consumers compiled with tsc), pool-compiled (tsc over the whole tree) and
// examples (each example a process of its own with a worker pool).
export default {
  files: [
    '.test-build/test/unit/**/*.test.js',
    '.test-build/test/integration/**/*.test.js',
    '!.test-build/test/integration/soak-*.test.js',
    '!.test-build/test/integration/package.test.js',
    '!.test-build/test/integration/examples.test.js',
    '!.test-build/test/unit/pool-compiled.test.js',
  ],
  nodeArguments: ['--expose-gc'],
  workerThreads: false,
  timeout: '2m',
  concurrency: 2,
};
