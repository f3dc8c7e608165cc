import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, sleep, startTestGateway, waitFor } from '../../helpers/gateway.js';
import { startMainProcess, type MainProcess } from '../../helpers/mainProcess.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';

const TTL_MS = 1000;
const CLUSTER_ENV = { MUTEGATE_CLUSTER_NODE_TTL_MS: String(TTL_MS), MUTEGATE_CLUSTER_HEARTBEAT_MS: '200' };

/**
 * Node A's process is held still (SIGSTOP: a blocked event loop, a paused container) while its
 * media worker runs on and forwards. A cannot raise its own fence, its registration expires, and
 * node B takes the call over and answers a muteAll. A's lease watchdog (a process of its own,
 * LeaseWatchdog) kills A's workers just before the lease can expire, so nothing of the call is
 * forwarded by A after B's 200. A real process for A, real workers, real UDP.
 */
describe('cluster: a stalled node’s workers are stopped before another node takes its calls over', () => {
  let redis: RedisServer;
  let nodeA: MainProcess;
  let nodeB: Gateway;
  const peers: { close(): void }[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodeA = startMainProcess({ ...CLUSTER_ENV, MUTEGATE_CLUSTER_REDIS_URL: redis.url });
    await nodeA.listening;
    nodeB = await startTestGateway({ ...CLUSTER_ENV, MUTEGATE_CLUSTER_REDIS_URL: redis.url });
  }, 30_000);
  afterAll(async () => {
    for (const peer of peers) peer.close();
    nodeA?.child.kill('SIGCONT');
    nodeA?.child.kill('SIGTERM');
    await nodeA?.exited;
    await nodeB?.close();
    await redis?.kill();
  });

  it('held still past its lease: B answers a muteAll, and A forwards nothing of the talker from then on', async () => {
    const apiA = apiClient(await nodeA.listening);
    const apiB = apiClient(nodeB.url);
    const callId = await createGroupCall(apiA);
    const t = await joinRtp(apiA, callId, { userId: 'talker' });
    const l = await joinRtp(apiA, callId, { userId: 'listener' });
    peers.push(t.peer, l.peer);
    t.startStreaming();
    await waitFor(() => l.peer.from(t.peer.senderId).length >= 5, 3000, 'T heard by L');

    nodeA.child.kill('SIGSTOP');
    let muteAll = await apiB.post(`/communications/calls/${callId}/muteAll`, {});
    for (const deadline = Date.now() + 8000; muteAll.status === 503 && Date.now() < deadline; ) {
      await sleep(100);
      muteAll = await apiB.post(`/communications/calls/${callId}/muteAll`, {});
    }
    expect(muteAll.status, JSON.stringify(muteAll.body)).toBe(200);
    expect(nodeB.service.hasCall(callId), 'B took the call over').toBe(true);
    const fromMuteAll = t.peer.nextCounter;
    await sleep(800);
    expect(t.peer.nextCounter - fromMuteAll, 'T kept sending to A').toBeGreaterThan(20);
    const late = l.peer.from(t.peer.senderId).filter((p) => p.counter >= fromMuteAll).length;
    expect(late, "packets of T forwarded by stalled A's worker after B's 200").toBe(0);

    // A runs again: its workers were killed and replaced; it finds the call taken over and ends it.
    nodeA.child.kill('SIGCONT');
    let health = await apiA.get('/healthz');
    for (const deadline = Date.now() + 8000; health.body.status !== 'ok' && Date.now() < deadline; ) {
      await sleep(100);
      health = await apiA.get('/healthz');
    }
    expect(health.body, JSON.stringify(health.body)).toMatchObject({ status: 'ok', workers: 1, cluster: { redis: 'up', mediaFenced: false } });
    expect((await apiA.get('/metrics')).body as string).toMatch(/^mutegate_worker_deaths_total [1-9]/m);
    await sleep(300);
    expect(l.peer.from(t.peer.senderId).filter((p) => p.counter >= fromMuteAll).length, 'packets of T after A ran again').toBe(0);
  }, 30_000);
});
