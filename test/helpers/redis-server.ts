import { isRedisAvailable } from '../../src/harness/redis-server.js';

export { freePort, startRedis, type RedisServer } from '../../src/harness/redis-server.js';

/** Whether a `redis-server` binary is on the PATH. */
export const redisAvailable: boolean = isRedisAvailable();
