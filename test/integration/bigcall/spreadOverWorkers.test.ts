import { describe, expect, it } from 'vitest';
import type { CallRouter } from '../../../src/media/CallRouter.js';
import { metricValue, sleep, SPREAD_OVER_TWO_WORKERS, useGateway, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';

/**
 * One call spread over two real mediasoup workers (a tiny per-worker budget forces it), real RTP
 * over UDP on 127.0.0.1. The muted participant's router is on worker A, receivers are on A and on
 * B (they hear it through a pipe). "Sent after the 200" is exact: every probe carries its
 * sender's counter, read the moment the response arrived.
 */
describe('a call over two workers: mute, mute on entry and deafen hold on every pipe', () => {
  const fx = useGateway(SPREAD_OVER_TWO_WORKERS);

  const mediaOf = (callId: string) => fx.gateway.service.getCall(callId).media as unknown as CallRouter;
  /** Streams 1 packet per millisecond (a stress rate: 20× an Opus stream). */
  const streamFast = (p: RtpParticipant) => p.peer.start({ to: p.send, payloadType: PAYLOAD_TYPE, ssrc: p.ssrc, intervalMs: 1, payloadBytes: 80 });

  it('forwards nothing through a pipe after the mute 200, and again after unmute; a muted newcomer reaches nobody; deafen holds for piped streams', async () => {
    const callId = await createGroupCall(fx.api);
    const m = await joinRtp(fx.api, callId); // will be muted; streams 1 packet/ms
    const x = await joinRtp(fx.api, callId); // receiver next to it
    const r1 = await joinRtp(fx.api, callId); // receivers on the other worker
    const r2 = await joinRtp(fx.api, callId);
    fx.peers.push(m.peer, x.peer, r1.peer, r2.peer);

    const media = mediaOf(callId);
    const workerA = media.workerPidOf(m.id);
    const workerB = media.workerPidOf(r1.id);
    expect(fx.gateway.pool.pids).toHaveLength(2);
    expect(workerA).not.toBeNull();
    expect(workerB).not.toBeNull();
    expect(workerB).not.toBe(workerA);
    expect(media.workerPidOf(x.id)).toBe(workerA);
    expect(media.workerPidOf(r2.id)).toBe(workerB);
    expect(media.workerPids.sort()).toEqual([workerA, workerB].sort());

    // Each worker's load is visible per pid, counted from what exists (pipes included).
    const metrics = (await fx.api.get('/metrics')).body as string;
    expect(metricValue(metrics, `mutegate_worker_consumers{pid="${workerA}"}`)).toBeGreaterThan(0);
    expect(metricValue(metrics, `mutegate_worker_consumers{pid="${workerB}"}`)).toBeGreaterThan(0);

    streamFast(m);
    x.startStreaming();
    const receivers = [x, r1, r2];
    await waitFor(() => receivers.every((r) => receivedSince(r.peer, m.peer, 0) >= 100), 5000, 'M heard on A and, through the pipe, on B');
    // Everyone on B hears X on A, and X hears B (both directions of the pipes work).
    await waitFor(() => receivedSince(r1.peer, x.peer, 0) >= 5 && receivedSince(r2.peer, x.peer, 0) >= 5, 5000, 'X → B');

    // Mute: the 200 means the worker of M's router and the worker of every pipe copy confirmed.
    const mute = await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/mute`, { clientContext: 'pipes' });
    const atMuteAck = m.peer.nextCounter;
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    expect(mute.body).toMatchObject({ status: 'completed' });
    await sleep(1000);
    expect(m.peer.nextCounter - atMuteAck, 'M kept streaming fast').toBeGreaterThanOrEqual(300);
    await sleep(200); // anything in flight has landed
    for (const r of receivers) expect(receivedSince(r.peer, m.peer, atMuteAck), `receiver on worker ${media.workerPidOf(r.id)}`).toBe(0);
    // Only M is muted: B still hears X through the pipe.
    const xMark = x.peer.nextCounter;
    await waitFor(() => receivedSince(r1.peer, x.peer, xMark) >= 10, 3000, 'X still heard on B');

    const unmute = await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/unmute`, {});
    const atUnmuteAck = m.peer.nextCounter;
    expect(unmute.status, JSON.stringify(unmute.body)).toBe(200);
    await waitFor(() => receivers.every((r) => receivedSince(r.peer, m.peer, atUnmuteAck) >= 50), 3000, 'M heard again on A and B');

    // A newcomer muted on entry, placed by admission control on one of the call's two workers:
    // its producer and every pipe copy of it start paused, so it reaches nobody on either.
    expect((await fx.api.patch(`/communications/calls/${callId}`, { muteOnEntry: true })).status).toBe(200);
    const n = await joinRtp(fx.api, callId);
    fx.peers.push(n.peer);
    expect([workerA, workerB]).toContain(media.workerPidOf(n.id));
    expect((await fx.api.get(`/communications/calls/${callId}/participants/${n.id}`)).body.isMuted).toBe(true);
    streamFast(n);
    await sleep(800);
    expect(n.peer.nextCounter).toBeGreaterThanOrEqual(300);
    for (const r of [m, x, r1, r2]) expect(receivedSince(r.peer, n.peer, 0), `receiver on worker ${media.workerPidOf(r.id)}`).toBe(0);
    const nUnmute = await fx.api.post(`/communications/calls/${callId}/participants/${n.id}/unmute`, {});
    expect(nUnmute.status, JSON.stringify(nUnmute.body)).toBe(200);
    const atNUnmute = n.peer.nextCounter;
    await waitFor(() => [m, x, r1, r2].every((r) => receivedSince(r.peer, n.peer, atNUnmute) >= 20), 3000, 'N heard on both workers after unmute');
    n.peer.stop();

    // Deafen a receiver on B: its consumers of the pipe copies pause; R2 beside it still hears.
    const deafen = await fx.api.post(`/communications/calls/${callId}/participants/${r1.id}/deafen`, {});
    expect(deafen.status, JSON.stringify(deafen.body)).toBe(200);
    const atDeafen = { m: m.peer.nextCounter, x: x.peer.nextCounter };
    await sleep(700);
    expect(receivedSince(r1.peer, m.peer, atDeafen.m)).toBe(0);
    expect(receivedSince(r1.peer, x.peer, atDeafen.x)).toBe(0);
    expect(receivedSince(r2.peer, m.peer, atDeafen.m)).toBeGreaterThanOrEqual(200);
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${r1.id}/undeafen`, {})).status).toBe(200);
    const atUndeafen = m.peer.nextCounter;
    await waitFor(() => receivedSince(r1.peer, m.peer, atUndeafen) >= 20, 3000, 'R1 hears again after undeafen');
    m.peer.stop();
    x.peer.stop();
    expect((await fx.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
  });

  it('a participant leaving releases its load; a router nobody is in any more is closed', async () => {
    const callId = await createGroupCall(fx.api);
    const a = await joinRtp(fx.api, callId);
    const b = await joinRtp(fx.api, callId);
    const c = await joinRtp(fx.api, callId);
    fx.peers.push(a.peer, b.peer, c.peer);
    const media = mediaOf(callId);
    expect(media.workerPidOf(c.id)).not.toBe(media.workerPidOf(a.id));
    expect(media.workerPids).toHaveLength(2);
    const totalConsumers = () => fx.gateway.pool.loads().reduce((sum, l) => sum + l.consumers, 0);
    const before = totalConsumers();
    expect((await fx.api.delete(`/communications/calls/${callId}/participants/${c.id}`)).status).toBe(204);
    // C's two consumers and its pipe consumer toward A's router, A's and B's consumers of C's
    // pipe copy, and the pipe consumers carrying A and B to C's router: 7 consumers are gone.
    await waitFor(() => media.workerPids.length === 1, 3000, 'the emptied router closed');
    await waitFor(() => totalConsumers() === before - 7, 3000, `load released (was ${before}, now ${totalConsumers()})`);
    expect(totalConsumers()).toBe(before - 7);
    expect((await fx.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
  });

  it('a new send stream (new SSRC) of a muted participant is piped paused, and piped again flowing after unmute', async () => {
    const callId = await createGroupCall(fx.api);
    const m = await joinRtp(fx.api, callId);
    const x = await joinRtp(fx.api, callId);
    const r1 = await joinRtp(fx.api, callId);
    fx.peers.push(m.peer, x.peer, r1.peer);
    const media = mediaOf(callId);
    expect(media.workerPidOf(r1.id)).not.toBe(media.workerPidOf(m.id));
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/mute`, {})).status).toBe(200);

    const newSsrc = m.ssrc + 7000;
    const patched = await fx.api.patch(`/communications/calls/${callId}/participants/${m.id}`, { media: { payloadType: PAYLOAD_TYPE, ssrc: newSsrc } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ isMuted: true });
    m.peer.start({ to: m.send, payloadType: PAYLOAD_TYPE, ssrc: newSsrc, intervalMs: 1, payloadBytes: 80 });
    await sleep(600);
    expect(m.peer.nextCounter).toBeGreaterThanOrEqual(200);
    expect(receivedSince(r1.peer, m.peer, 0)).toBe(0);
    expect(receivedSince(x.peer, m.peer, 0)).toBe(0);

    expect((await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/unmute`, {})).status).toBe(200);
    const atUnmute = m.peer.nextCounter;
    await waitFor(() => receivedSince(r1.peer, m.peer, atUnmute) >= 20 && receivedSince(x.peer, m.peer, atUnmute) >= 20, 3000, 'the new stream heard on both workers');
    m.peer.stop();
    expect((await fx.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
  });

  it('a mute waits for the worker of every pipe copy: with that worker stalled, the 200 comes only once it confirmed', async () => {
    const callId = await createGroupCall(fx.api);
    const media = mediaOf(callId);
    const copies: { producer: { paused: boolean; closed: boolean }; workerPid: number }[] = [];
    const workerOfRouter = new Map<unknown, number>();
    media.observer.on('newrouter', ({ router, workerPid }) => workerOfRouter.set(router, workerPid));
    const m = await joinRtp(fx.api, callId);
    media.observer.on('newproducer', ({ router, producer, participantId, pipe }) => {
      if (pipe && participantId === m.id) copies.push({ producer, workerPid: workerOfRouter.get(router) ?? -1 });
    });
    const x = await joinRtp(fx.api, callId);
    const r1 = await joinRtp(fx.api, callId);
    fx.peers.push(m.peer, x.peer, r1.peer);
    const stalled = media.workerPidOf(r1.id) as number;
    expect(stalled).not.toBe(media.workerPidOf(m.id));
    expect(copies.map((c) => c.workerPid)).toEqual([stalled]);

    streamFast(m);
    await waitFor(() => receivedSince(r1.peer, m.peer, 0) >= 100, 5000, 'M heard through the pipe');
    // Worker B stops reading anything (its socket fills with piped packets, its channel with the pause).
    process.kill(stalled, 'SIGSTOP');
    let answered = false;
    const started = performance.now();
    const mute = fx.api.post(`/communications/calls/${callId}/participants/${m.id}/mute`, {}).then((res) => {
      answered = true;
      // Read in the same turn the answer arrived: the pipe copy's pause is confirmed already.
      return { res, atAck: m.peer.nextCounter, copyPaused: copies.every((c) => c.producer.paused), elapsedMs: performance.now() - started };
    });
    await sleep(300);
    expect(answered, 'the mute answered while the worker carrying the pipe copy could not have paused it').toBe(false);
    process.kill(stalled, 'SIGCONT');
    const { res, atAck, copyPaused, elapsedMs } = await mute;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(copyPaused).toBe(true);
    expect(elapsedMs).toBeGreaterThanOrEqual(300);
    await sleep(500);
    expect(m.peer.nextCounter - atAck).toBeGreaterThanOrEqual(150);
    expect(receivedSince(r1.peer, m.peer, atAck)).toBe(0);
    expect(receivedSince(x.peer, m.peer, atAck)).toBe(0);
    m.peer.stop();
    expect((await fx.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
  });

  // Last: it kills a worker of this fx.gateway.
  it('a worker of a spread call dies: the whole call loses its media and is rebuilt, and the locked participant stays silent', async () => {
    const callId = await createGroupCall(fx.api);
    const m = await joinRtp(fx.api, callId);
    const x = await joinRtp(fx.api, callId);
    const r1 = await joinRtp(fx.api, callId);
    fx.peers.push(m.peer, x.peer, r1.peer);
    const media = mediaOf(callId);
    const pipeSide = media.workerPidOf(r1.id) as number;
    expect(pipeSide).not.toBe(media.workerPidOf(m.id));
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/lock`, {})).status).toBe(200);

    process.kill(pipeSide, 'SIGKILL');
    const call = fx.gateway.service.getCall(callId);
    await waitFor(() => call.media !== media && !call.mediaLost && [...call.participants.values()].every((p) => p.media), 10_000, 'call media rebuilt');

    const after = (await fx.api.get(`/communications/calls/${callId}/participants`)).body.value as { id: string; isMuted: boolean; locked: boolean; media: { send: { ip: string; port: number } } }[];
    expect(after).toHaveLength(3);
    expect(after.find((p) => p.id === m.id)).toMatchObject({ isMuted: true, locked: true });
    const sendTo = (id: string) => (after.find((p) => p.id === id) as (typeof after)[number]).media.send;
    const mFrom = m.peer.nextCounter;
    m.peer.start({ to: sendTo(m.id), payloadType: PAYLOAD_TYPE, ssrc: m.ssrc, intervalMs: 1, payloadBytes: 80 });
    const xFrom = x.peer.nextCounter;
    x.peer.start({ to: sendTo(x.id), payloadType: PAYLOAD_TYPE, ssrc: x.ssrc, intervalMs: 20, payloadBytes: 80 });
    await waitFor(() => receivedSince(r1.peer, x.peer, xFrom) >= 10, 5000, 'X → R1 after the rebuild');
    await sleep(300);
    expect(m.peer.nextCounter - mFrom).toBeGreaterThanOrEqual(100);
    expect(receivedSince(r1.peer, m.peer, 0)).toBe(0);
    expect(receivedSince(x.peer, m.peer, 0)).toBe(0);
    m.peer.stop();
    x.peer.stop();
  });
});
