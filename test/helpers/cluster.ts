import { afterAll, beforeAll } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { sleep, startTestGateway, type apiClient, type ApiResponse } from './gateway.js';
import { RedisServer } from './redisServer.js';

/**
 * A node's /healthz once its `cluster` part satisfies `ready` (asked every 50 ms), or the last
 * answer after `timeoutMs`: the caller asserts on it, so a node that never got there fails there.
 */
export async function clusterHealthWhen(
  api: ReturnType<typeof apiClient>,
  ready: (cluster: { redis: string; unsyncedStates: number; mediaFenced: boolean }) => boolean,
  timeoutMs: number,
): Promise<ApiResponse> {
  const deadline = Date.now() + timeoutMs;
  let health = await api.get('/healthz');
  while (!ready(health.body.cluster) && Date.now() < deadline) {
    await sleep(50);
    health = await api.get('/healthz');
  }
  return health;
}

/** Retries a request while the cluster answers 503 (a node or Redis coming back, a take-over not possible yet), for up to `ms`. */
export async function until503Passes(send: () => Promise<ApiResponse>, ms = 8000): Promise<ApiResponse> {
  const deadline = Date.now() + ms;
  let res = await send();
  while (res.status === 503 && Date.now() < deadline) {
    await sleep(100);
    res = await send();
  }
  return res;
}

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
