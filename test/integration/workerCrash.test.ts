import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../native-bench/lib/RtpPeer.js';
import type { Gateway } from '../../src/gateway.js';
import { apiClient, metricValue, sleep, startTestGateway, waitFor } from '../helpers/gateway.js';
import { createGroupCall, joinRtp, receivedSince } from '../helpers/rtpCall.js';

/** A worker killed with SIGKILL is counted and replaced; calls on it keep their mute state. */
describe('worker pool survives a worker crash (real worker, kill -9)', () => {
  let gateway: Gateway;
  let api: ReturnType<typeof apiClient>;
  const peers: RtpPeer[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway({ MUTEGATE_MEDIA_NUM_WORKERS: '1' });
    api = apiClient(gateway.url);
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    await gateway?.close();
  });

  it('replaces the dead worker, keeps mute state, refuses joins on the lost call and serves new calls', async () => {
    const lostCall = await createGroupCall(api);
    const a = await joinRtp(api, lostCall);
    const b = await joinRtp(api, lostCall);
    peers.push(a.peer, b.peer);
    a.startStreaming();
    b.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A → B before the crash');
    expect((await api.post(`/communications/calls/${lostCall}/participants/${a.id}/mute`, {})).status).toBe(200);

    const [deadPid] = gateway.pool.pids;
    expect(deadPid).toBeGreaterThan(0);
    process.kill(deadPid as number, 'SIGKILL');
    await waitFor(() => gateway.pool.pids.length === 1 && gateway.pool.pids[0] !== deadPid, 10_000, 'replacement worker');

    // The call lost its media but not its state.
    const call = await api.get(`/communications/calls/${lostCall}`);
    expect(call.body.mediaState.audio).toBe('inactive');
    const aAfter = (await api.get(`/communications/calls/${lostCall}/participants/${a.id}`)).body;
    expect(aAfter).toMatchObject({ isMuted: true, media: { state: 'disconnected' } });
    // Nothing flows without a router, so muting B is recorded and confirmed at once.
    expect((await api.post(`/communications/calls/${lostCall}/participants/${b.id}/mute`, {})).status).toBe(200);
    const join = await api.post(`/communications/calls/${lostCall}/participants`, {
      info: { identity: { user: { id: 'late' } } },
      media: { kind: 'rtp', payloadType: 100, ssrc: 31337 },
    });
    expect(join.status).toBe(503);
    expect(join.body.error).toMatchObject({ code: 'serviceUnavailable', innerError: expect.objectContaining({ code: 'callMediaLost' }) });

    // The pool works: a new call on the replacement worker forwards RTP and mutes it.
    const freshCall = await createGroupCall(api);
    const c = await joinRtp(api, freshCall);
    const d = await joinRtp(api, freshCall);
    peers.push(c.peer, d.peer);
    c.startStreaming();
    d.startStreaming();
    await waitFor(() => receivedSince(d.peer, c.peer, 0) >= 5, 5000, 'C → D on the new worker');
    expect((await api.post(`/communications/calls/${freshCall}/participants/${c.id}/mute`, {})).status).toBe(200);
    const counterAtAck = c.peer.nextCounter;
    await sleep(500);
    expect(receivedSince(d.peer, c.peer, counterAtAck)).toBe(0);

    const health = await api.get('/healthz');
    expect(health.body).toEqual({ status: 'ok', workers: 1 });

    const metrics = (await api.get('/metrics')).body as string;
    expect(metricValue(metrics, 'mutegate_worker_deaths_total')).toBe(1);
    expect(metricValue(metrics, 'mutegate_worker_restarts_total')).toBe(1);
    expect(metricValue(metrics, 'mutegate_mute_operations_total{operation="mute",result="completed"}')).toBe(3);
    expect(metricValue(metrics, 'mutegate_calls')).toBe(2);
    expect(metricValue(metrics, 'mutegate_participants')).toBe(4);
    expect(metricValue(metrics, 'mutegate_muted_participants')).toBe(3);
    expect(metrics).toContain('mutegate_mute_enforcement_seconds_bucket');
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });
});
