// `npm run test:fast`: the suite without the slow perf tests and soak runs (`npm test` runs everything).
import pkg from './package.json' with { type: 'json' };

export default {
  ...pkg.ava,
  // Also left out: the packed-tarball consumers and the examples (each compiles and installs for a minute).
  files: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', '!test/integration/soak-*.test.ts', '!test/integration/package.test.ts', '!test/integration/examples.test.ts'],
};
