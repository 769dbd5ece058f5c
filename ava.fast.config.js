// `npm run test:fast`: the suite without the slow perf tests and soak runs (`npm test` runs everything).
import pkg from './package.json' with { type: 'json' };

export default {
  ...pkg.ava,
  files: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', '!test/integration/soak-*.test.ts'],
};
