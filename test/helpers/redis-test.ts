import test, { type TestFn } from 'ava';
import { redisAvailable } from './redis-server.js';

export { redisAvailable };

const INSTALL = 'apt-get install -y redis-server';

/**
 * `test` when redis-server is installed. Without it every test fails, saying what to install
 * (the README's test command names it): a Redis promise is never reported as kept untested.
 * Hooks (`before`, `after.always`, ...) stay ava's own: guard their bodies with `redisAvailable`.
 */
export function redisTest(): TestFn {
  if (redisAvailable) return test;
  const fn = (title: string) => test(title, (t) => t.fail(`redis-server is not installed; run: ${INSTALL}`));
  return Object.assign(fn, test, { serial: fn, only: fn, skip: fn, failing: fn }) as unknown as TestFn;
}


