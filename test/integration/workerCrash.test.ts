import { afterAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../native-bench/lib/RtpPeer.js';
import { metricValue, outcomeOf, sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, receivedSince } from '../helpers/rtpCall.js';

/**
 * Fail-closed recovery: the worker under a call is killed with SIGKILL while RTP flows. The pool
 * replaces it, the call gets a new router, every participant new media, and the muted one is
 * silent from its first packet on the new transport.
 */
describe('worker crash recovery (real worker, kill -9, real RTP)', () => {
  const fixture = useGateway({ MUTEGATE_MEDIA_NUM_WORKERS: '1' });
  const peers: RtpPeer[] = [];
  const clients: RosterClient[] = [];

  afterAll(async () => {
    for (const p of peers) p.close();
    for (const c of clients) c.close();
  });

  it('rebuilds the call, keeps the mute, and forwards nothing from the muted participant afterwards', async () => {
    const callId = await createGroupCall(fixture.api);
    const a = await joinRtp(fixture.api, callId); // will be muted
    const b = await joinRtp(fixture.api, callId);
    const c = await joinRtp(fixture.api, callId);
    const d = await joinRtp(fixture.api, callId); // will be deafened
    peers.push(a.peer, b.peer, c.peer, d.peer);
    // A is locked (hard-muted), D deafened: both must survive the crash.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/lock`, {})).status).toBe(200);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${d.id}/deafen`, {})).status).toBe(200);
    a.startStreaming();
    b.startStreaming();
    await waitFor(() => receivedSince(c.peer, b.peer, 0) >= 10, 5000, 'B → C before the crash');
    expect(receivedSince(c.peer, a.peer, 0)).toBe(0);

    const watcher = await RosterClient.connect(fixture.gateway.url, 'json');
    clients.push(watcher);
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));

    const [deadPid] = fixture.gateway.pool.pids;
    const sendsBefore = new Map(await Promise.all([a, b, c, d].map(async (p) => [p.id, (await fixture.api.get(`/communications/calls/${callId}/participants/${p.id}`)).body.media.send] as const)));
    process.kill(deadPid as number, 'SIGKILL');
    // An operation issued while the worker is dying either completes or fails clearly; it never hangs.
    const inFlight = await Promise.race([
      fixture.api.post(`/communications/calls/${callId}/participants/${b.id}/mute`, { clientContext: 'during-crash' }),
      sleep(10_000).then(() => ({ status: 0, body: 'hung' })),
    ]);
    expect(['200', '503 muteNotConfirmed', '503 mediaOperationFailed']).toContain(outcomeOf(inFlight));

    // Every participant is told its media was rebuilt.
    await waitFor(() => watcher.deltas().filter((x) => x.change === 'reconnect').length === 4, 10_000, 'four reconnect updates');
    expect(fixture.gateway.pool.pids).toHaveLength(1);
    expect(fixture.gateway.pool.pids[0]).not.toBe(deadPid);

    const after = (await fixture.api.get(`/communications/calls/${callId}/participants`)).body.value as {
      id: string;
      isMuted: boolean;
      locked: boolean;
      deafened: boolean;
      media: { state: string; send: { port: number } };
    }[];
    expect(after.map((p) => p.media.state)).toEqual(['connected', 'connected', 'connected', 'connected']);
    for (const p of after) expect(p.media.send.port).not.toBe(sendsBefore.get(p.id)?.port);
    expect(after.find((p) => p.id === a.id)).toMatchObject({ isMuted: true, locked: true });
    expect(after.find((p) => p.id === d.id)).toMatchObject({ deafened: true });
    expect((await fixture.api.get(`/communications/calls/${callId}`)).body.mediaState.audio).toBe('active');

    // The clients follow the new addresses; B is unmuted for the check (its state may be either after the race above).
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${b.id}/unmute`, {})).status).toBe(200);
    const sendTo = (id: string) => after.find((p) => p.id === id)!.media.send as unknown as { ip: string; port: number };
    const aFrom = a.peer.nextCounter;
    a.peer.start({ to: sendTo(a.id), payloadType: PAYLOAD_TYPE, ssrc: a.ssrc, intervalMs: 20 });
    const bFrom = b.peer.nextCounter;
    b.peer.start({ to: sendTo(b.id), payloadType: PAYLOAD_TYPE, ssrc: b.ssrc, intervalMs: 20 });
    await waitFor(() => receivedSince(c.peer, b.peer, bFrom) >= 20, 5000, 'B → C after recovery');
    await sleep(300);
    expect(a.peer.nextCounter - aFrom).toBeGreaterThanOrEqual(20);
    expect(receivedSince(c.peer, a.peer, aFrom)).toBe(0);
    expect(receivedSince(b.peer, a.peer, aFrom)).toBe(0);
    expect(receivedSince(c.peer, a.peer, 0)).toBe(0); // not one packet from A, ever
    expect(receivedSince(d.peer, b.peer, bFrom)).toBe(0); // D is still deafened

    // Unlocked and unmuted after recovery, A gets through: the recovered producer is a real one.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/unlock`, {})).status).toBe(200);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {})).status).toBe(200);
    const aUnmuted = a.peer.nextCounter;
    await waitFor(() => receivedSince(c.peer, a.peer, aUnmuted) >= 5, 5000, 'A → C after unmute');

    // New calls and joins work on the replacement worker.
    const late = await joinRtp(fixture.api, callId);
    peers.push(late.peer);
    expect(late.id).toEqual(expect.any(String));
    const metrics = (await fixture.api.get('/metrics')).body as string;
    expect(metricValue(metrics, 'mutegate_worker_deaths_total')).toBe(1);
    expect(metricValue(metrics, 'mutegate_worker_restarts_total')).toBe(1);
    expect((await fixture.api.get('/healthz')).body).toEqual({ status: 'ok', workers: 1 });
  });
});
