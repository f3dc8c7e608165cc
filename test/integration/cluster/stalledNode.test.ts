import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childPids } from '../../../native-bench/lib/procCpu.js';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, sleep, startTestGateway, waitFor } from '../../helpers/gateway.js';
import { startMainProcess, type MainProcess } from '../../helpers/mainProcess.js';
import { until503Passes } from '../../helpers/cluster.js';
import { RedisServer } from '../../helpers/redisServer.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';

const TTL_MS = 1000;
const CLUSTER_ENV = { MUTEGATE_CLUSTER_NODE_TTL_MS: String(TTL_MS), MUTEGATE_CLUSTER_HEARTBEAT_MS: '200' };

/**
 * Node A's process alone is held still (SIGSTOP, as a blocked event loop would) while its
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
    const muteAll = await until503Passes(() => apiB.post(`/communications/calls/${callId}/muteAll`, {}));
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

/** Running (a process killed while its parent is stopped stays a zombie until reaped: that counts as dead). */
const isAlive = (pid: number) => {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** A process's live mediasoup workers (its children that run the worker binary). */
function workersOf(pid: number): number[] {
  return childPids(pid).filter((child) => {
    try {
      return basename(readlinkSync(`/proc/${child}/exe`)) === 'mediasoup-worker' && isAlive(child);
    } catch {
      return false; // gone meanwhile
    }
  });
}

/**
 * The watchdog kills the workers that are the node's children when the lease runs out, not a list
 * it was given: a worker that replaced a dead one after the last renewal (here the node is held
 * still before it has even adopted it) is killed too, and a dead worker's pid, maybe reused by
 * another process, never.
 */
describe('cluster: the lease watchdog knows a worker that replaced another after the last renewal', () => {
  let redis: RedisServer;
  let nodeA: MainProcess;

  afterAll(async () => {
    nodeA?.child.kill('SIGCONT');
    nodeA?.child.kill('SIGTERM');
    await nodeA?.exited;
    await redis?.kill();
  });

  it('held still past its lease, A has its replacement worker killed', async () => {
    redis = await RedisServer.start();
    nodeA = startMainProcess({ MUTEGATE_CLUSTER_NODE_TTL_MS: '6000', MUTEGATE_CLUSTER_HEARTBEAT_MS: '3000', MUTEGATE_CLUSTER_REDIS_URL: redis.url });
    await nodeA.listening;
    const pid = nodeA.child.pid as number;
    const [first] = workersOf(pid);
    expect(first, 'A has a worker').toBeDefined();
    process.kill(first as number, 'SIGKILL');
    await waitFor(() => workersOf(pid).length === 1 && workersOf(pid)[0] !== first, 3000, 'the worker replaced');
    const [replacement] = workersOf(pid);
    nodeA.child.kill('SIGSTOP');
    // Past the deadline of any lease: 6 s from the last renewal at the latest.
    await waitFor(() => !isAlive(replacement as number), 8000, 'the replacement worker killed by the watchdog');
  }, 30_000);
});
