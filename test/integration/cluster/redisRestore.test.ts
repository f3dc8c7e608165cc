import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, sleep, startTestGateway } from '../../helpers/gateway.js';
import { startMainProcess, type MainProcess } from '../../helpers/mainProcess.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { createGroupCall } from '../../helpers/rtpCall.js';

type Api = ReturnType<typeof apiClient>;

/**
 * Redis restarts empty (no persistence) and comes back before the node hosting a call has written
 * it again: another node must not tell a client that the call does not exist. Node A is a real
 * process that the test holds still (SIGSTOP) while Redis restarts, so its rewrite comes
 * exactly when the test lets it.
 */
describe('cluster: a call is not "not found" while Redis is being written again after a restart', () => {
  let redis: RedisServer;
  let nodeA: MainProcess;
  let nodeB: Gateway;
  let apiA: Api;
  let apiB: Api;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const env = { MUTEGATE_CLUSTER_REDIS_URL: redis.url, MUTEGATE_CLUSTER_NODE_TTL_MS: '1000', MUTEGATE_CLUSTER_HEARTBEAT_MS: '200' };
    nodeA = startMainProcess(env);
    apiA = apiClient(await nodeA.listening);
    nodeB = await startTestGateway(env);
    apiB = apiClient(nodeB.url);
  }, 30_000);
  afterAll(async () => {
    nodeA?.child.kill('SIGCONT');
    nodeA?.child.kill('SIGTERM');
    await nodeA?.exited;
    await nodeB?.close();
    await redis?.kill();
  });

  it('answers 503 clusterStateUnavailable (never 404) until the hosting node has written its call again, then serves it', async () => {
    const callId = await createGroupCall(apiA);
    expect((await apiB.get(`/communications/calls/${callId}`)).status).toBe(200);

    nodeA.child.kill('SIGSTOP');
    await redis.kill();
    await redis.restart();
    let health = await apiB.get('/healthz');
    for (let i = 0; i < 100 && health.body.cluster.redis !== 'up'; i++) {
      await sleep(50);
      health = await apiB.get('/healthz');
    }
    expect(health.body.cluster.redis).toBe('up');

    // Redis is empty and A cannot write: for a while after B's reconnect, the call is unknown to
    // Redis, and B says it cannot tell yet (every answer in that time, not just the first).
    const answers: { status: number; code: string }[] = [];
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const res = await apiB.get(`/communications/calls/${callId}`);
      answers.push({ status: res.status, code: res.body?.error?.innerError?.code });
      await sleep(100);
    }
    expect(answers.length).toBeGreaterThan(5);
    expect(new Set(answers.map((a) => `${a.status} ${a.code}`))).toEqual(new Set(['503 clusterStateUnavailable']));

    // A goes on: it reconnects, writes its call again, and B serves it through A.
    nodeA.child.kill('SIGCONT');
    let read = await apiB.get(`/communications/calls/${callId}`);
    for (let i = 0; i < 100 && read.status === 503; i++) {
      await sleep(100);
      read = await apiB.get(`/communications/calls/${callId}`);
    }
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.id).toBe(callId);

    // A call nobody hosts is still a 404 once the window after the reconnect is over.
    await sleep(4000);
    const unknown = await apiB.get('/communications/calls/no-such-call');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.innerError.code).toBe('callNotFound');
  }, 40_000);
});
