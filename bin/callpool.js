#!/usr/bin/env node
// The CLI runs from the build in dist/ (npm ci builds it through the `prepare` script).
import('../dist/src/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    console.error('callpool: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  throw err;
});
