import { describe, expect, it } from 'vitest';
import type { CallRouter } from '../../../src/media/CallRouter.js';
import { metricValue, useGateway, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, receivedSince } from '../../helpers/rtpCall.js';

/**
 * Admission control with real workers: a join no worker has room for answers 503
 * mediaCapacityExceeded at once (nothing created, nobody waits on a worker), and room that is
 * freed by a leave is used again.
 */
describe('admission control per worker (real workers)', () => {
  const fx = useGateway({
    MUTEGATE_MEDIA_NUM_WORKERS: '2',
    // Three participants of one call fill a worker (3 × 2 consumers); the fourth would need 6
    // more consumers on that worker wherever it went (it consumes the three or they consume its
    // pipe copy, plus the pipes): refused.
    MUTEGATE_MEDIA_WORKER_BUDGET_CONSUMERS: '6',
    MUTEGATE_MEDIA_WORKER_BUDGET_PACKETS_PER_SECOND: '1000000',
    MUTEGATE_MEDIA_WORKER_BUDGET_PLACEMENT_SHARE: '1',
  });

  it('answers a join beyond capacity with 503 mediaCapacityExceeded within a second, and admits again once room is freed', async () => {
    const callId = await createGroupCall(fx.api);
    const a = await joinRtp(fx.api, callId);
    const b = await joinRtp(fx.api, callId);
    const c = await joinRtp(fx.api, callId);
    fx.peers.push(a.peer, b.peer, c.peer);
    const media = fx.gateway.service.getCall(callId).media as unknown as CallRouter;
    expect(new Set([a, b, c].map((p) => media.workerPidOf(p.id))).size).toBe(1);
    const refusalsBefore = metricValue((await fx.api.get('/metrics')).body, 'mutegate_admission_refusals_total');
    expect(refusalsBefore).toBe(0);

    const started = performance.now();
    const refused = await fx.api.post(`/communications/calls/${callId}/participants`, {
      info: { identity: { user: { id: 'one-too-many', displayName: 'One too many' } } },
      media: { kind: 'rtp', payloadType: 100, ssrc: 4242, receive: { ip: '127.0.0.1', port: 5999 } },
    });
    const elapsedMs = performance.now() - started;
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body.error.innerError.code).toBe('mediaCapacityExceeded');
    expect(refused.body.error.message).toMatch(/at capacity.*media\.workerBudget/);
    expect(elapsedMs).toBeLessThan(1000);
    // Nothing half-done: the roster and the workers' load are as before.
    expect((await fx.api.get(`/communications/calls/${callId}/participants`)).body.value).toHaveLength(3);
    expect(media.workerPids).toHaveLength(1);
    const metrics = (await fx.api.get('/metrics')).body as string;
    expect(metricValue(metrics, 'mutegate_admission_refusals_total')).toBe(1);
    const pid = media.workerPidOf(a.id);
    expect(metricValue(metrics, `mutegate_worker_consumers{pid="${pid}"}`)).toBe(6);

    // A leaves: its consumers and those of it are released, so the next join fits.
    expect((await fx.api.delete(`/communications/calls/${callId}/participants/${a.id}`)).status).toBe(204);
    await waitFor(() => fx.gateway.pool.loads().reduce((sum, l) => sum + l.consumers, 0) === 2, 3000, 'load released');
    const d = await joinRtp(fx.api, callId);
    fx.peers.push(d.peer);
    b.startStreaming();
    await waitFor(() => receivedSince(d.peer, b.peer, 0) >= 5, 3000, 'the admitted newcomer hears B');
    b.peer.stop();

    // A consumer paused itself (here: a deafened receiver) stays counted as a consumer but no
    // longer in the packet-rate estimate: it sends nothing.
    const loadOf = () => fx.gateway.pool.loads().find((l) => l.pid === media.workerPidOf(d.id));
    const beforeDeafen = loadOf();
    expect(beforeDeafen?.flowingConsumers).toBe(6);
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${d.id}/deafen`, {})).status).toBe(200);
    expect(loadOf()).toMatchObject({ consumers: 6, flowingConsumers: 4, packetsPerSecond: (4 + 3) * 50 });
  });
});
