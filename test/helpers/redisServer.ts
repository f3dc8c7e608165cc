/** The cluster tests' Redis: the same one-port redis-server the bench's cluster profile starts. */
export { RedisProcess as RedisServer } from '../../native-bench/lib/redisProcess.js';
