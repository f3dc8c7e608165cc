import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import { apiClient, sleep, waitFor } from '../../helpers/gateway.js';
import { clusterHealthWhen, until503Passes } from '../../helpers/cluster.js';
import { startMainProcess, type MainProcess } from '../../helpers/mainProcess.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';

/** Short liveness so that a killed node's calls can move within a test (config minimum 1000). */
// X streams speech-sized packets on and on, muted or not: talkingWhileMuted would add its own
// roster updates to the deltas these tests count one by one, so the signal is off here (it has
// its own tests: speakers.test.ts, hostile/talkingWhileMutedFlood.test.ts).
const CLUSTER_ENV = { MUTEGATE_CLUSTER_NODE_TTL_MS: '1000', MUTEGATE_CLUSTER_HEARTBEAT_MS: '200', MUTEGATE_MEDIA_MUTED_SPEECH_POLLS_PER_SECOND: '0' };

type Api = ReturnType<typeof apiClient>;

/**
 * Three gateway processes sharing one real redis-server: A hosts the call and the media (and is
 * killed with -9 at the end); B and C serve it through A (real workers, real RTP on 127.0.0.1).
 */
describe('cluster of three nodes: any node serves any call', () => {
  let redis: RedisServer;
  let nodeA: MainProcess;
  let nodeB: MainProcess;
  let nodeC: MainProcess;
  let inspect: Redis;
  let apiA: Api;
  let apiB: Api;
  let apiC: Api;
  const peers: RtpPeer[] = [];
  const subscribers: RosterClient[] = [];
  let callId: string;
  let x: RtpParticipant;
  let listener: RtpParticipant;
  /** A JSON subscriber on C that follows the call from the Redis restart on. */
  let follower: RosterClient;
  /** The operation of the mute through B in the first test. */
  let muteThroughB: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    inspect = redis.client();
    const env = { MUTEGATE_CLUSTER_REDIS_URL: redis.url, MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true', ...CLUSTER_ENV };
    [nodeA, nodeB, nodeC] = [startMainProcess(env), startMainProcess(env), startMainProcess(env)];
    apiA = apiClient(await nodeA.listening);
    apiB = apiClient(await nodeB.listening);
    apiC = apiClient(await nodeC.listening);

    callId = await createGroupCall(apiA);
    x = await joinRtp(apiA, callId);
    listener = await joinRtp(apiA, callId);
    peers.push(x.peer, listener.peer);
    x.startStreaming();
    await waitFor(() => receivedSince(listener.peer, x.peer, 0) >= 10, 5000, 'X → listener on A');
  }, 30_000);
  afterAll(async () => {
    for (const client of subscribers.splice(0)) client.close();
    for (const peer of peers.splice(0)) peer.close();
    nodeA?.child.kill('SIGKILL');
    // B and C shut down as a node does (SIGTERM), so their workers go with them.
    for (const node of [nodeB, nodeC]) node?.child.kill('SIGTERM');
    await Promise.all([nodeB?.exited, nodeC?.exited]);
    inspect?.disconnect();
    await redis?.kill();
  });

  it('mutes through B a participant whose media is on A: 0 packets forwarded after the 200; C’s subscribers (JSON and protobuf) get the delta in sequence', async () => {
    const json = await RosterClient.connect(await nodeC.listening, 'json');
    const proto = await RosterClient.connect(await nodeC.listening, 'proto');
    subscribers.push(json, proto);
    for (const client of [json, proto]) {
      const snapshot = await client.answer(client.request({ type: 'subscribe', callId }));
      expect(snapshot.error, JSON.stringify(snapshot)).toBeUndefined();
    }
    const sequence = json.snapshotSequence();
    expect(sequence).toBeGreaterThanOrEqual(2); // X and the listener joined
    expect(proto.snapshotSequence()).toBe(sequence);

    const mute = await apiB.post(`/communications/calls/${callId}/participants/${x.id}/mute`, { clientContext: 'through B' });
    const afterMute = x.peer.nextCounter;
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    expect(mute.body).toMatchObject({ status: 'completed', clientContext: 'through B' });
    muteThroughB = mute.body.id;
    // Written before the 200: the state is in Redis already.
    const stored = JSON.parse((await inspect.hget(`mutegate:call:${callId}:speakers`, `user:${x.userId}`)) ?? 'null');
    expect(stored, 'X’s moderation state in Redis after the 200').toMatchObject({ muted: true, hasJoined: true });
    expect(mute.headers.get('location')).toBe(`/communications/calls/${callId}/operations/${mute.body.id}`);
    // The operation is readable through any node.
    expect((await apiC.get(`/communications/calls/${callId}/operations/${mute.body.id}`)).body).toMatchObject({ id: mute.body.id, status: 'completed' });

    await sleep(600);
    expect(x.peer.nextCounter - afterMute, 'X kept sending').toBeGreaterThanOrEqual(20);
    expect(receivedSince(listener.peer, x.peer, afterMute), 'packets of muted X forwarded by A').toBe(0);

    for (const client of [json, proto]) {
      await waitFor(() => client.deltas().length >= 1, 3000, `delta on C (${client.encoding})`);
      expect(client.deltas(), client.encoding).toEqual([{ sequence: sequence + 1, change: 'updated', participants: [{ id: x.id, isMuted: true }] }]);
    }

    // A WebSocket mute request through C is served by A as well: unmute, and X is heard again.
    const unmuteId = json.request({ type: 'unmute', callId, participantId: x.id });
    const answer = await json.answer(unmuteId);
    expect(answer.error, JSON.stringify(answer)).toBeUndefined();
    const afterUnmute = x.peer.nextCounter;
    await waitFor(() => receivedSince(listener.peer, x.peer, afterUnmute) >= 10, 5000, 'X → listener after the unmute through C');
    await waitFor(() => proto.deltas().length >= 2, 3000, 'second delta on C');
    expect(proto.deltas().map((d) => d.sequence)).toEqual([sequence + 1, sequence + 2]);
    expect(proto.deltas()[1]?.participants).toEqual([{ id: x.id, isMuted: false }]);
  }, 30_000);

  it('places a new call asked of A on a less loaded node; every node lists both calls', async () => {
    const created = await apiA.post('/communications/calls', { subject: 'placed' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const host = await inspect.hget(`mutegate:call:${created.body.id}`, 'node');
    const nodeIdOfA = (await apiA.get('/healthz')).body.cluster.nodeId;
    expect(host).not.toBe(nodeIdOfA);
    expect([(await apiB.get('/healthz')).body.cluster.nodeId, (await apiC.get('/healthz')).body.cluster.nodeId]).toContain(host);
    // Any node lists the calls of every node, once each.
    for (const api of [apiA, apiB, apiC]) {
      const ids = ((await api.get('/communications/calls')).body.value as { id: string }[]).map((c) => c.id);
      expect(ids.sort()).toEqual([callId, created.body.id].sort());
    }
    expect((await apiA.delete(`/communications/calls/${created.body.id}`)).status).toBe(204);
  });

  it('answers a cross-node mute 503 while Redis is down, and recovers from its restart: a mute through B still reaches A and C’s subscriber', async () => {
    const json = await RosterClient.connect(await nodeC.listening, 'json');
    subscribers.push(json);
    follower = json;
    await json.answer(json.request({ type: 'subscribe', callId }));
    const sequence = json.snapshotSequence();

    await redis.kill();
    // Without Redis, B cannot know where the call is: a cross-node mute is a 503, never a hang.
    const health = await clusterHealthWhen(apiB, (cluster) => cluster.redis === 'down', 2500);
    expect(health.body.cluster.redis).toBe('down');
    const refused = await apiB.post(`/communications/calls/${callId}/participants/${x.id}/mute`, {});
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.error.innerError.code).toBe('clusterStateUnavailable');
    await redis.restart();
    const mute = await until503Passes(() => apiB.post(`/communications/calls/${callId}/participants/${x.id}/mute`, {}));
    const afterMute = x.peer.nextCounter;
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    await sleep(600);
    expect(receivedSince(listener.peer, x.peer, afterMute), 'packets of muted X forwarded by A').toBe(0);
    await waitFor(() => json.deltas().length >= 1, 3000, 'delta on C after the Redis restart');
    expect(json.deltas()[0]).toEqual({ sequence: sequence + 1, change: 'updated', participants: [{ id: x.id, isMuted: true }] });
  }, 30_000);

  it('after kill -9 of A, X joins again through C and is still muted: 0 packets forwarded', async () => {
    // The last change C's subscriber got from A.
    const lastSeen = follower.deltas().at(-1)?.sequence as number;
    expect(lastSeen).toBeGreaterThan(0);
    nodeA.child.kill('SIGKILL');
    await nodeA.exited;
    const read = await until503Passes(() => apiC.get(`/communications/calls/${callId}`));
    expect(read.status, JSON.stringify(read.body)).toBe(200);

    peers.splice(peers.indexOf(x.peer), 1);
    x.peer.close();
    const rejoined = await joinRtp(apiC, callId, { userId: x.userId });
    const talker = await joinRtp(apiC, callId);
    const newListener = await joinRtp(apiC, callId);
    peers.push(rejoined.peer, talker.peer, newListener.peer);
    rejoined.startStreaming();
    talker.startStreaming();
    await waitFor(() => receivedSince(newListener.peer, talker.peer, 0) >= 25, 5000, 'talker → listener on C');
    expect(rejoined.peer.nextCounter, 'X sent while muted').toBeGreaterThanOrEqual(25);
    expect(receivedSince(newListener.peer, rejoined.peer, 0), 'packets of muted X forwarded by C').toBe(0);
    const viaB = await apiB.get(`/communications/calls/${callId}/participants/${rejoined.id}`);
    expect(viaB.status, JSON.stringify(viaB.body)).toBe(200);
    expect(viaB.body).toMatchObject({ isMuted: true });

    // C's subscriber followed the call on A. C continues its numbering after A's last published
    // change with one number left out: the subscriber sees a gap, resyncs, and the snapshot has
    // the legs of now (A's are gone with A).
    await waitFor(() => follower.deltas().some((d) => d.sequence > lastSeen), 3000, 'a delta after the take-over');
    expect(follower.deltas().find((d) => d.sequence > lastSeen)?.sequence).toBe(lastSeen + 2);
    await follower.answer(follower.request({ type: 'resync', callId }));
    expect(follower.snapshotSequence()).toBeGreaterThan(lastSeen + 1);
    const snapshot = follower.messages.filter((m) => m['@mutegate.kind'] === 'snapshot').at(-1);
    const legs = (snapshot.value[0].resourceData as { id: string; isMuted: boolean }[]).map((p) => ({ id: p.id, isMuted: p.isMuted }));
    expect(legs).toEqual(expect.arrayContaining([{ id: rejoined.id, isMuted: true }]));
    expect(legs.map((p) => p.id)).not.toContain(x.id);
    expect(legs.map((p) => p.id)).not.toContain(listener.id);

    // Operations stay readable from any node after their node is gone.
    const operation = await apiB.get(`/communications/calls/${callId}/operations/${muteThroughB}`);
    expect(operation.status, JSON.stringify(operation.body)).toBe(200);
    expect(operation.body).toMatchObject({ id: muteThroughB, status: 'completed', clientContext: 'through B' });
  }, 30_000);
});
