// `npm run test:fast`: the suite less what is slow by nature (`npm test` runs everything), on the
// tests compiled to plain JavaScript (test/build-js.mjs, .test-build/): no tsx in each ava
// process, worker thread and child process. Left out: test/perf (measurements), the soak runs
// (test/integration/soak-*), and the tests that build or run the package whole: package (npm
// pack and install, consumers compiled with tsc), pool-compiled (tsc over the whole tree) and
// examples (each example a process of its own with a worker pool).
// Files that take long in wall time (real seconds of waiting: coarse timers, rate windows, Redis
// processes) start first, so their waits overlap the CPU-bound files instead of ending the run.
const LONG = [
  'redis-switch',
  'transport-coarse-timer',
  'provider-door',
  'http-limits',
  'transport-http',
  'http-pipeline',
  'redis-outage',
  'redis-shared',
  'redis-sent',
  'redis-limiter',
  'pool-backends',
  'provider-limits',
];
const rank = (file) => {
  const i = LONG.findIndex((name) => file.endsWith(`/${name}.test.js`));
  return i === -1 ? LONG.length : i;
};

export default {
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  files: [
    '.test-build/test/unit/**/*.test.js',
    '.test-build/test/integration/**/*.test.js',
    '!.test-build/test/integration/soak-*.test.js',
    '!.test-build/test/integration/package.test.js',
    '!.test-build/test/integration/examples.test.js',
    '!.test-build/test/unit/pool-compiled.test.js',
  ],
  nodeArguments: ['--expose-gc'],
  // Test files run side by side on two cores: a real-time upstream thread in one (a soak's
  // observer) would hold back the timing checks of another. The tests that check the
  // real-time observer ask for it explicitly.
  environmentVariables: { CALLPOOL_OBSERVER_REALTIME: '0' },
  workerThreads: false,
  timeout: '2m',
  // Three files at a time on two cores: the long files above mostly wait. Compiled, every test
  // passed at three on this machine with other work on it (load 4-8); `npm test` (under tsx,
  // three times the CPU per file) stays at two.
  concurrency: 3,
};
