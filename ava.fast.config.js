// `npm run test:fast`: the suite less what is slow by nature (`npm test` runs everything):
// test/perf (measurements), the soak runs (test/integration/soak-*), and the tests that build or
// run the package whole: package (npm pack and install, consumers compiled with tsc), pool-compiled
// (tsc over the whole tree) and examples (each example a process of its own with a worker pool).
// Concurrency stays at the suite's 2: at 4, timing-bound tests failed on this loaded machine.
import pkg from './package.json' with { type: 'json' };

export default {
  ...pkg.ava,
  files: [
    'test/unit/**/*.test.ts',
    'test/integration/**/*.test.ts',
    '!test/integration/soak-*.test.ts',
    '!test/integration/package.test.ts',
    '!test/integration/examples.test.ts',
    '!test/unit/pool-compiled.test.ts',
  ],
};
