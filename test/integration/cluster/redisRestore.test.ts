import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, sleep, startTestGateway } from '../../helpers/gateway.js';
import { clusterHealthWhen } from '../../helpers/cluster.js';
import { startMainProcess, type MainProcess } from '../../helpers/mainProcess.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';

type Api = ReturnType<typeof apiClient>;

/** The restore window after a reconnect (restoreWindowMs: max(nodeTtlMs 1000, 2 × (2000 backoff + 1000 connect timeout))). */
const RESTORE_WINDOW_MS = 6000;

/**
 * Redis restarts and comes back before the node hosting a call has written it again: another node
 * must neither tell a client that the call does not exist nor take it over from its live node.
 * Node A is a real process that the test holds still (SIGSTOP) while Redis restarts, so its
 * rewrite comes exactly when the test lets it.
 */
describe('cluster: a live node’s call after a Redis restart, before that node wrote it again', () => {
  let redis: RedisServer;
  let inspect: Redis;
  let nodeA: MainProcess;
  let nodeB: Gateway;
  let apiA: Api;
  let apiB: Api;
  let nodeIdOfA: string;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    inspect = redis.client();
    const env = { MUTEGATE_CLUSTER_REDIS_URL: redis.url, MUTEGATE_CLUSTER_NODE_TTL_MS: '1000', MUTEGATE_CLUSTER_HEARTBEAT_MS: '200' };
    nodeA = startMainProcess(env);
    apiA = apiClient(await nodeA.listening);
    nodeB = await startTestGateway(env);
    apiB = apiClient(nodeB.url);
    nodeIdOfA = (await apiA.get('/healthz')).body.cluster.nodeId;
  }, 30_000);
  afterAll(async () => {
    for (const peer of peers.splice(0)) peer.close();
    inspect?.disconnect();
    nodeA?.child.kill('SIGCONT');
    nodeA?.child.kill('SIGTERM');
    await nodeA?.exited;
    await nodeB?.close();
    await redis?.kill();
  });

  /** Holds A still, restarts Redis, and waits until B is connected to it again. */
  async function restartRedisWhileAIsHeld(beforeRestart: () => Promise<void> = async () => undefined): Promise<void> {
    nodeA.child.kill('SIGSTOP');
    inspect?.disconnect();
    await redis.kill();
    await beforeRestart();
    await redis.restart();
    inspect = redis.client();
    const health = await clusterHealthWhen(apiB, (cluster) => cluster.redis === 'up', 5000);
    expect(health.body.cluster.redis).toBe('up');
  }

  /** Lets A go on; B's answer for `path` once it is no longer 503 (A reconnected and wrote its calls again). */
  async function releaseA(path: string): Promise<Awaited<ReturnType<Api['get']>>> {
    nodeA.child.kill('SIGCONT');
    let res = await apiB.get(path);
    for (let i = 0; i < 100 && res.status === 503; i++) {
      await sleep(50);
      res = await apiB.get(path);
    }
    return res;
  }

  /** Every answer B gives for `path` during `ms`. */
  async function answersOfB(path: string, ms: number): Promise<Set<string>> {
    const answers = new Set<string>();
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const res = await apiB.get(path);
      answers.add(`${res.status} ${res.body?.error?.innerError?.code ?? ''}`.trim());
      await sleep(100);
    }
    return answers;
  }

  it('Redis back empty: 503 clusterStateUnavailable (never 404) until the hosting node wrote its call again, then served; an unknown call is 404 after the window', async () => {
    const callId = await createGroupCall(apiA);
    expect((await apiB.get(`/communications/calls/${callId}`)).status).toBe(200);

    await restartRedisWhileAIsHeld();
    expect(await answersOfB(`/communications/calls/${callId}`, 1500)).toEqual(new Set(['503 clusterStateUnavailable']));

    const read = await releaseA(`/communications/calls/${callId}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.id).toBe(callId);

    // The window closes: a call nobody hosts is a 404 again.
    await sleep(RESTORE_WINDOW_MS);
    const unknown = await apiB.get('/communications/calls/no-such-call');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.innerError.code).toBe('callNotFound');
    expect((await apiA.delete(`/communications/calls/${callId}`)).status).toBe(204);
  }, 40_000);

  it('Redis back from an older snapshot, without A’s registration: B does not take A’s call over (whose newer mute the snapshot lacks); A keeps it, muted', async () => {
    // A's registration shows it without calls (the heartbeat after the last test's end of call),
    // so that a new call asked of A is placed on A (the least loaded node, A on a tie).
    const registeredCalls = async () => (JSON.parse((await inspect.get(`mutegate:node:${nodeIdOfA}`)) ?? '{}') as { calls?: number }).calls;
    for (let i = 0; i < 60 && (await registeredCalls()) !== 0; i++) await sleep(50);
    expect(await registeredCalls(), 'A registered without calls').toBe(0);
    const callId = await createGroupCall(apiA);
    expect(await inspect.hget(`mutegate:call:${callId}`, 'node'), 'the call is hosted by A').toBe(nodeIdOfA);
    const x = await joinRtp(apiA, callId);
    peers.push(x.peer);
    // The snapshot has X unmuted; the mute after it is only in the Redis that is about to die.
    expect(await inspect.save()).toBe('OK');
    const mute = await apiA.post(`/communications/calls/${callId}/participants/${x.id}/mute`, {});
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);

    // A's registration (1 s TTL) is expired by the time Redis is back from the snapshot.
    await restartRedisWhileAIsHeld(async () => void (await sleep(1500)));
    expect(await inspect.hget(`mutegate:call:${callId}`, 'node'), 'the snapshot has the call, hosted by A').toBe(nodeIdOfA);
    expect(await inspect.exists(`mutegate:node:${nodeIdOfA}`), 'and no registration of A').toBe(0);
    expect(await answersOfB(`/communications/calls/${callId}/participants/${x.id}`, 1500)).toEqual(new Set(['503 clusterStateUnavailable']));
    expect(await inspect.hget(`mutegate:call:${callId}`, 'node'), 'B did not take the call').toBe(nodeIdOfA);

    const read = await releaseA(`/communications/calls/${callId}/participants/${x.id}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.isMuted).toBe(true);
    expect(await inspect.hget(`mutegate:call:${callId}`, 'node')).toBe(nodeIdOfA);
  }, 40_000);
});
