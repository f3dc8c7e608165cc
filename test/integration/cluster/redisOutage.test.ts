import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, metricValue, sleep, startTestGateway, waitFor } from '../../helpers/gateway.js';
import { clusterHealthWhen } from '../../helpers/cluster.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { createGroupCall, joinRtp, receivedSince } from '../../helpers/rtpCall.js';

/**
 * Redis goes away under a node: it fails closed (a mute is still enforced by the worker and
 * answered; unmutes and new calls answer 503 clusterStateUnavailable), says so in /healthz and
 * /metrics, reconnects by itself when Redis is back and writes what it answered meanwhile.
 */
describe('cluster: Redis killed and restarted under a node', () => {
  let redis: RedisServer;
  let gateway: Gateway;
  let inspect: Redis;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    gateway = await startTestGateway({ MUTEGATE_CLUSTER_REDIS_URL: redis.url, MUTEGATE_CLUSTER_NODE_TTL_MS: '1000', MUTEGATE_CLUSTER_HEARTBEAT_MS: '200' });
  }, 30_000);
  afterAll(async () => {
    for (const peer of peers.splice(0)) peer.close();
    inspect?.disconnect();
    await gateway?.close();
    await redis?.kill();
  });

  it('mutes without Redis (0 packets after the 200), refuses the unmute with 503, and catches up when Redis is back', async () => {
    const api = apiClient(gateway.url);
    const callId = await createGroupCall(api);
    const x = await joinRtp(api, callId);
    const listener = await joinRtp(api, callId);
    peers.push(x.peer, listener.peer);
    x.startStreaming();
    await waitFor(() => receivedSince(listener.peer, x.peer, 0) >= 10, 5000, 'X → listener');
    expect((await api.get('/healthz')).body).toMatchObject({ status: 'ok', cluster: { redis: 'up', unsyncedStates: 0 } });

    await redis.kill();
    let health = await clusterHealthWhen(api, (cluster) => cluster.redis === 'down', 2500);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', cluster: { redis: 'down' } });

    const mute = await api.post(`/communications/calls/${callId}/participants/${x.id}/mute`, {});
    const afterMute = x.peer.nextCounter;
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    const unmute = await api.post(`/communications/calls/${callId}/participants/${x.id}/unmute`, {});
    expect(unmute.status).toBe(503);
    expect(unmute.body.error.innerError.code).toBe('clusterStateUnavailable');
    const newCall = await api.post('/communications/calls', { subject: 'while Redis is away' });
    expect(newCall.status).toBe(503);
    expect(newCall.body.error.innerError.code).toBe('clusterStateUnavailable');
    const metrics = (await api.get('/metrics')).body as string;
    expect(metricValue(metrics, 'mutegate_cluster_redis_up')).toBe(0);
    expect(metricValue(metrics, 'mutegate_cluster_unsynced_states')).toBe(1);

    await sleep(600);
    expect(x.peer.nextCounter - afterMute, 'X kept sending').toBeGreaterThanOrEqual(20);
    expect(receivedSince(listener.peer, x.peer, afterMute), 'packets of muted X forwarded').toBe(0);

    // Redis is back (empty: it keeps nothing on disk here): the node reconnects by itself and
    // writes what it answered meanwhile, so the mute is in Redis again.
    await redis.restart();
    inspect = redis.client();
    // The outage outlasted 3/4 of nodeTtlMs, so the node held its media (the fence): it lets it flow
    // again only after writing its calls back, a moment after Redis is up and written ("degraded" until then).
    health = await clusterHealthWhen(api, (cluster) => cluster.redis === 'up' && cluster.unsyncedStates === 0 && !cluster.mediaFenced, 5000);
    expect(health.body).toMatchObject({ status: 'ok', cluster: { redis: 'up', unsyncedStates: 0, mediaFenced: false } });
    const stored = JSON.parse((await inspect.hget(`mutegate:call:${callId}:speakers`, `user:${x.userId}`)) ?? 'null');
    expect(stored, 'the mute answered while Redis was away, written once it is back').toMatchObject({ muted: true });

    const retried = await api.post(`/communications/calls/${callId}/participants/${x.id}/unmute`, {});
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const afterUnmute = x.peer.nextCounter;
    await waitFor(() => receivedSince(listener.peer, x.peer, afterUnmute) >= 10, 5000, 'X → listener after the unmute');
  }, 30_000);
});
