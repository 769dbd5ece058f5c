import test, { type TestFn } from 'ava';
import { redisAvailable } from './redis-server.js';

export { redisAvailable };

const INSTALL = 'apt-get install -y redis-server';

/**
 * `test` when redis-server is installed. Without it: in CI (`CI` set) every test fails, saying
 * what to install; locally the tests are reported as skipped, with the same hint. Hooks
 * (`before`, `after.always`, ...) stay ava's own: guard their bodies with `redisAvailable`.
 */
export function redisTest(): TestFn {
  if (redisAvailable) return test;
  const register = process.env['CI']
    ? (title: string) => test(title, (t) => t.fail(`redis-server is not installed; run: ${INSTALL}`))
    : (title: string) => test.skip(`${title} [redis-server not installed; run: ${INSTALL}]`, noop);
  if (!process.env['CI']) console.warn(`redis-server not found: Redis tests are skipped (install it with: ${INSTALL})`);
  const fn = (title: string) => register(title);
  return Object.assign(fn, test, { serial: fn, only: fn, skip: fn, failing: fn }) as unknown as TestFn;
}

function noop(): void {}

