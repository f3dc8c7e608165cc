import { afterAll, beforeAll } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from './gateway.js';
import { RedisServer } from './redisServer.js';

/** A real redis-server and two in-process gateway nodes sharing it (see useTwoNodes). */
export interface TwoNodes {
  redis: RedisServer;
  nodeA: Gateway;
  nodeB: Gateway;
}

/**
 * The cluster tests' set-up, once: for the enclosing describe block, a redis-server on a free
 * port and two nodes (real workers) started before its tests and stopped after them, the nodes
 * before Redis. `env` is added to each node's configuration (the Redis URL is set here). Its
 * members are there from the first test on. A test may close a node itself (closing twice is
 * harmless). Hooks the file registers after this call run their afterAll first (clients, peers).
 */
export function useTwoNodes(env: Record<string, string> = {}): TwoNodes {
  const cluster = {} as TwoNodes;
  beforeAll(async () => {
    cluster.redis = await RedisServer.start();
    const nodeEnv = { MUTEGATE_CLUSTER_REDIS_URL: cluster.redis.url, ...env };
    cluster.nodeA = await startTestGateway(nodeEnv);
    cluster.nodeB = await startTestGateway(nodeEnv);
  }, 30_000);
  afterAll(async () => {
    await cluster.nodeA?.close();
    await cluster.nodeB?.close();
    await cluster.redis?.kill();
  });
  return cluster;
}
