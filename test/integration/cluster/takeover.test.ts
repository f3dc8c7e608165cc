import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, sleep, startTestGateway, waitFor } from '../../helpers/gateway.js';
import { startMainProcess, type MainProcess } from '../../helpers/mainProcess.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { createGroupCall, joinRtp, receivedSince } from '../../helpers/rtpCall.js';

/** Short liveness so that a killed node's calls can move within a test (config minimum 1000). */
const CLUSTER_ENV = { MUTEGATE_CLUSTER_NODE_TTL_MS: '1000', MUTEGATE_CLUSTER_HEARTBEAT_MS: '200' };

/**
 * A mute survives its node: node A (a real process) hosts a call in which X is muted; A is killed
 * with SIGKILL; X joins again through node B, which takes the call over from Redis, and B's
 * worker forwards nothing X sends (real workers, real RTP over UDP on 127.0.0.1).
 */
describe('cluster: a call taken over from a node killed with -9 keeps its mutes', () => {
  let redis: RedisServer;
  let nodeA: MainProcess;
  let nodeB: Gateway;
  let inspect: Redis;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    inspect = redis.client();
    nodeA = startMainProcess({ MUTEGATE_CLUSTER_REDIS_URL: redis.url, MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true', ...CLUSTER_ENV });
    await nodeA.listening;
    nodeB = await startTestGateway({ MUTEGATE_CLUSTER_REDIS_URL: redis.url, ...CLUSTER_ENV });
  }, 30_000);
  afterAll(async () => {
    for (const peer of peers.splice(0)) peer.close();
    nodeA?.child.kill('SIGKILL');
    await nodeB?.close();
    inspect?.disconnect();
    await redis?.kill();
  });

  it('serves the call through A while A lives; after A is killed, B hosts the call and X rejoins muted: 0 packets forwarded', async () => {
    const apiA = apiClient(await nodeA.listening);
    const apiB = apiClient(nodeB.url);

    const callId = await createGroupCall(apiA);
    const x = await joinRtp(apiA, callId);
    peers.push(x.peer);
    const mute = await apiA.post(`/communications/calls/${callId}/participants/${x.id}/mute`, {});
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    // Written before the 200: the state is in Redis already.
    const stored = JSON.parse((await inspect.hget(`mutegate:call:${callId}:speakers`, `user:${x.userId}`)) ?? 'null');
    expect(stored, 'X’s moderation state in Redis after the 200').toMatchObject({ muted: true, hasJoined: true });

    // A is alive: B serves the call through A and does not take it over.
    const throughB = await apiB.get(`/communications/calls/${callId}`);
    expect(throughB.status, JSON.stringify(throughB.body)).toBe(200);
    const nodeIdOfA = (await apiA.get('/healthz')).body.cluster.nodeId;
    expect(await inspect.hget(`mutegate:call:${callId}`, 'node')).toBe(nodeIdOfA);

    nodeA.child.kill('SIGKILL');
    await nodeA.exited;

    // Within the node TTL B still sees A's registration (503 nodeUnreachable); then B takes the call over.
    let rejoin = await apiB.get(`/communications/calls/${callId}`);
    const deadline = Date.now() + 5000;
    while (rejoin.status === 503 && Date.now() < deadline) {
      await sleep(200);
      rejoin = await apiB.get(`/communications/calls/${callId}`);
    }
    expect(rejoin.status, JSON.stringify(rejoin.body)).toBe(200);
    expect(await inspect.hget(`mutegate:call:${callId}`, 'node')).toBe((await apiB.get('/healthz')).body.cluster.nodeId);

    // X joins again through B (same identity, new socket); a listener and an unmuted talker join too.
    peers.splice(peers.indexOf(x.peer), 1);
    x.peer.close();
    const x2 = await joinRtp(apiB, callId, { userId: x.userId });
    const talker = await joinRtp(apiB, callId);
    const listener = await joinRtp(apiB, callId);
    peers.push(x2.peer, talker.peer, listener.peer);
    const roster = await apiB.get(`/communications/calls/${callId}/participants`);
    expect(roster.body.value.find((p: { id: string }) => p.id === x2.id)).toMatchObject({ isMuted: true });

    x2.startStreaming();
    talker.startStreaming();
    // The listener hears the unmuted talker through B's worker: the check below could catch X.
    await waitFor(() => receivedSince(listener.peer, talker.peer, 0) >= 25, 5000, 'talker → listener on B');
    expect(x2.peer.nextCounter, 'X sent while muted').toBeGreaterThanOrEqual(25);
    expect(receivedSince(listener.peer, x2.peer, 0), 'packets of muted X forwarded by B').toBe(0);

    // Unmuted through B, X is heard: the muted silence above was the mute, not a broken path.
    const unmute = await apiB.post(`/communications/calls/${callId}/participants/${x2.id}/unmute`, {});
    expect(unmute.status, JSON.stringify(unmute.body)).toBe(200);
    const afterUnmute = x2.peer.nextCounter;
    await waitFor(() => receivedSince(listener.peer, x2.peer, afterUnmute) >= 10, 5000, 'X → listener after the unmute');
  }, 30_000);
});
