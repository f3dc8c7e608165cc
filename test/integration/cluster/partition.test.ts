import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../src/gateway.js';
import type { CallRouter } from '../../../src/media/CallRouter.js';
import { apiClient, sleep, startTestGateway, waitFor, type ApiResponse } from '../../helpers/gateway.js';
import { clusterHealthWhen, until503Passes } from '../../helpers/cluster.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { joinRtp, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';
import { TcpProxy } from '../../helpers/tcpProxy.js';

const TTL_MS = 1000;
const CLUSTER_ENV = { MUTEGATE_CLUSTER_NODE_TTL_MS: String(TTL_MS), MUTEGATE_CLUSTER_HEARTBEAT_MS: '200' };

/**
 * Node A is cut off from Redis (a TCP proxy between them, reset) while its participants still
 * reach it and node B still reaches Redis. A's registration expires after nodeTtlMs; from then on
 * B takes A's call over on its first request for it, and answers mutes for it that A never hears
 * of, while A's worker would go on forwarding everyone. So A holds every send stream paused
 * before its registration can expire (its "lease"), and lets them flow again, as their mute
 * states say, only once it is registered again and has checked that its calls are still its own.
 */
describe('cluster: a node cut off from Redis falls silent before another node can take its calls over', () => {
  let redis: RedisServer;
  let proxy: TcpProxy;
  let nodeA: Gateway;
  let nodeB: Gateway;
  const peers: { close(): void }[] = [];
  const apiA = () => apiClient(nodeA.url);
  const apiB = () => apiClient(nodeB.url);

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await TcpProxy.start(redis.port);
    nodeA = await startTestGateway({ ...CLUSTER_ENV, MUTEGATE_CLUSTER_REDIS_URL: proxy.url });
    nodeB = await startTestGateway({ ...CLUSTER_ENV, MUTEGATE_CLUSTER_REDIS_URL: redis.url });
  }, 30_000);
  afterAll(async () => {
    for (const peer of peers) peer.close();
    await nodeA?.close();
    await nodeB?.close();
    await proxy?.close();
    await redis?.kill();
  });

  /**
   * A new call through A. Right after an earlier test healed A's link, A may still answer 503
   * while it writes back what Redis refused during the cut (new calls wait for that): retried.
   */
  async function createCallThroughA(): Promise<string> {
    const res = await until503Passes(() => apiA().post('/communications/calls', { subject: 'partition test call' }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  /** A call hosted on A with a talker T and a listener L on A's worker, T heard by L. */
  async function callOnA(): Promise<{ callId: string; t: RtpParticipant; l: RtpParticipant }> {
    // A new call goes to the least loaded node: an earlier test's call may weigh on A. Calls placed
    // on B are ended until one lands on A (the loads are renewed with every heartbeat).
    let callId = await createCallThroughA();
    for (const deadline = Date.now() + 5000; !nodeA.service.hasCall(callId) && Date.now() < deadline; ) {
      await apiB().delete(`/communications/calls/${callId}`);
      await sleep(250);
      callId = await createCallThroughA();
    }
    expect(nodeA.service.hasCall(callId), 'the call is hosted on A').toBe(true);
    const t = await joinRtp(apiA(), callId, { userId: 'talker' });
    const l = await joinRtp(apiA(), callId, { userId: 'listener' });
    peers.push(t.peer, l.peer);
    t.startStreaming();
    await waitFor(() => receivedSince(l.peer, t.peer, 0) >= 5, 3000, 'T heard by L');
    return { callId, t, l };
  }

  async function fencedA(): Promise<ApiResponse> {
    return clusterHealthWhen(apiA(), (cluster) => cluster.mediaFenced, TTL_MS * 3);
  }

  it('taken over by B: after B answers a muteAll, nothing of T reaches L through A (A fell silent before its registration expired)', async () => {
    const { callId, t, l } = await callOnA();
    proxy.cut();
    const cutAt = Date.now();
    const fenced = await fencedA();
    expect(fenced.body, 'A holds its media before its registration can expire').toMatchObject({ status: 'degraded', cluster: { mediaFenced: true } });
    expect(Date.now() - cutAt, 'fenced within the lease').toBeLessThan(TTL_MS);
    // Whatever the fence's pause let through has landed by now.
    await sleep(100);
    const fromFence = t.peer.nextCounter;

    // B answers once A's registration has expired: it takes the call over (before that it cannot reach A: 503).
    const muteAll = await until503Passes(() => apiB().post(`/communications/calls/${callId}/muteAll`, {}));
    expect(muteAll.status, JSON.stringify(muteAll.body)).toBe(200);
    expect(nodeB.service.hasCall(callId), 'B took the call over').toBe(true);
    const fromMuteAll = t.peer.nextCounter;
    await sleep(800);
    expect(t.peer.nextCounter - fromMuteAll, 'T kept sending to A').toBeGreaterThan(20);
    expect(receivedSince(l.peer, t.peer, fromFence), 'packets of T forwarded by A after its fence').toBe(0);

    // Back in touch with Redis, A finds the call taken over and ends its copy; its fence comes down.
    proxy.heal();
    const healed = await clusterHealthWhen(apiA(), (cluster) => cluster.redis === 'up' && !cluster.mediaFenced, 8000);
    expect(healed.body).toMatchObject({ status: 'ok', cluster: { redis: 'up', mediaFenced: false } });
    await waitFor(() => !nodeA.service.hasCall(callId), 3000, 'A ended its copy of the call');
    await sleep(300);
    expect(receivedSince(l.peer, t.peer, fromFence), 'packets of T forwarded by A after the heal').toBe(0);
  }, 30_000);

  it('cut off briefly, nobody took over: A falls silent, and once registered again its talkers are heard and its muted stay muted', async () => {
    const { callId, t, l } = await callOnA();
    const m = await joinRtp(apiA(), callId, { userId: 'muted' });
    peers.push(m.peer);
    expect((await apiA().post(`/communications/calls/${callId}/participants/${m.id}/mute`, {})).status).toBe(200);
    m.startStreaming();

    proxy.cut();
    await fencedA();
    await sleep(100);
    const fromFence = t.peer.nextCounter;
    // Longer than nodeTtlMs: A's registration expires meanwhile, but nobody asks B for the call.
    await sleep(TTL_MS + 500);
    expect(receivedSince(l.peer, t.peer, fromFence), 'T forwarded while A is fenced').toBe(0);

    proxy.heal();
    const healed = await clusterHealthWhen(apiA(), (cluster) => cluster.redis === 'up' && !cluster.mediaFenced, 8000);
    expect(healed.body).toMatchObject({ status: 'ok', cluster: { mediaFenced: false } });
    expect(nodeA.service.hasCall(callId), 'the call stayed on A').toBe(true);
    const fromLift = t.peer.nextCounter;
    const mFromLift = m.peer.nextCounter;
    await waitFor(() => receivedSince(l.peer, t.peer, fromLift) >= 5, 3000, 'T heard again after the fence came down');
    await sleep(300);
    expect(receivedSince(l.peer, m.peer, mFromLift), 'the muted participant is still muted').toBe(0);
    const state = await apiA().get(`/communications/calls/${callId}/participants/${m.id}`);
    expect(state.body).toMatchObject({ isMuted: true });
    expect((await apiA().delete(`/communications/calls/${callId}`)).status).toBe(204);
  }, 30_000);

  it("cut off with its worker stalled (the fence's pause cannot be confirmed): the lease watchdog kills that worker, and only this node's", async () => {
    const { callId, t, l } = await callOnA();
    const workerOfA = (nodeA.service.getCall(callId).media as unknown as CallRouter).workerPidOf(t.id) as number;
    const workersOfB = nodeB.pool.pids;
    process.kill(workerOfA, 'SIGSTOP');
    proxy.cut();
    try {
      await fencedA();
      // The fence is up but its pause waits in the stalled worker; the watchdog's deadline comes before the lease can expire.
      await waitFor(() => !nodeA.pool.pids.includes(workerOfA), TTL_MS * 3, "A's stalled worker killed");
      for (const pid of workersOfB) expect(() => process.kill(pid, 0), `B's worker ${pid} (same process, another gateway) left alone`).not.toThrow();
      const muteAll = await until503Passes(() => apiB().post(`/communications/calls/${callId}/muteAll`, {}));
      expect(muteAll.status, JSON.stringify(muteAll.body)).toBe(200);
      const fromMuteAll = t.peer.nextCounter;
      await sleep(800);
      expect(receivedSince(l.peer, t.peer, fromMuteAll), 'packets of T forwarded on A after B answered').toBe(0);
    } finally {
      try {
        process.kill(workerOfA, 'SIGCONT'); // a no-op once it is dead
      } catch {
        // gone
      }
      proxy.heal();
    }
    await clusterHealthWhen(apiA(), (cluster) => cluster.redis === 'up' && !cluster.mediaFenced, 8000);
  }, 30_000);
});
