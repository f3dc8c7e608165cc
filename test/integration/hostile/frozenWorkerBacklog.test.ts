import { describe, expect, it } from 'vitest';
import { metricValue, sleep, waitFor, useFreezableWorker } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PACKET_INTERVAL_MS, PAYLOAD_TYPE, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';

const BOUND_MS = 500;

/**
 * A mute the frozen worker cannot confirm answers 503 muteNotConfirmed (fail closed). A stalled
 * worker, once it ran again, would read the datagrams waiting in its UDP sockets (up to 32 per
 * socket per loop turn, in an order of ready descriptors it does not control, before or after its
 * channel where the pause and the teardown wait). A participant in silence (Opus DTX: one small
 * packet per 400 ms) who starts speaking after the 503 while the worker is stopped has that speech
 * waiting there: before the stalled worker was killed on an unconfirmed pause, 20 to all 60 of
 * those packets were forwarded after the thaw. Now nothing is.
 */
describe('hostile: a DTX sender whose mute could not be confirmed (frozen worker)', () => {
  const fx = useFreezableWorker({ MUTEGATE_MEDIA_MUTE_CONFIRM_TIMEOUT_MS: String(BOUND_MS) });

  it('after the 503 nothing A sends reaches B, not even what waited in the stalled worker\'s socket: the worker is stopped', async () => {
    const callId = await createGroupCall(fx.api);
    const a: RtpParticipant = await joinRtp(fx.api, callId);
    const b = await joinRtp(fx.api, callId);
    fx.peers.push(a.peer, b.peer);
    const sendOne = () => a.peer.sendOne({ to: a.send, payloadType: PAYLOAD_TYPE, ssrc: a.ssrc, payloadBytes: 80 });
    for (let i = 0; i < 10; i++) {
      sendOne();
      await sleep(PACKET_INTERVAL_MS);
    }
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A heard by B');

    fx.freeze();
    // Silence with DTX: one packet reaches the frozen worker's socket before the mute request.
    sendOne();
    await sleep(50);
    const res = await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.innerError.code).toBe('muteNotConfirmed');
    const atAnswer = a.peer.nextCounter;
    // A starts speaking after the answer; the worker is still frozen (60 packets: more than one read batch).
    for (let i = 0; i < 60; i++) {
      sendOne();
      if (i % 10 === 9) await sleep(PACKET_INTERVAL_MS);
    }
    fx.thaw();
    await sleep(300);
    const leaked = receivedSince(b.peer, a.peer, atAnswer);
    console.log(`frozen worker, DTX backlog: ${leaked} of the 60 packets A sent after the 503 reached B`);
    expect(leaked, 'packets A sent after the 503 that reached B').toBe(0);
    // Nor later: A's old leg died with the worker (the rebuilt call gives it new media, paused).
    const afterThaw = a.peer.nextCounter;
    for (let i = 0; i < 20; i++) {
      sendOne();
      await sleep(PACKET_INTERVAL_MS);
    }
    await sleep(300);
    expect(receivedSince(b.peer, a.peer, afterThaw)).toBe(0);
  });

  it('a resume confirmed after the bound does not erase what the mute counts: the packets dropped while muted are still reported at the next unmute', async () => {
    const dropped = async () => metricValue((await fx.api.get('/metrics')).body as string, 'mutegate_muted_packets_dropped_total') || 0;
    const callId = await createGroupCall(fx.api);
    const a = await joinRtp(fx.api, callId);
    const b = await joinRtp(fx.api, callId);
    fx.peers.push(a.peer, b.peer);
    a.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A heard by B');
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    await sleep(300);

    // An unmute the frozen worker cannot confirm: 503, the pause goes right behind the resume.
    fx.freeze();
    const unmute = await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {});
    expect(unmute.status, JSON.stringify(unmute.body)).toBe(503);
    expect(unmute.body.error.innerError.code).toBe('unmuteNotConfirmed');
    fx.thaw();
    // The late resume and the pause behind it are confirmed; A stays muted and keeps sending.
    await sleep(600);
    const atRemute = a.peer.nextCounter;
    await sleep(400);
    expect(receivedSince(b.peer, a.peer, atRemute)).toBe(0);

    const before = await dropped();
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {})).status).toBe(200);
    // A sent ~70 packets while muted (50/s for about 1.4 s): all dropped by the worker and counted now.
    expect((await dropped()) - before, 'packets dropped while muted, reported at the confirmed unmute').toBeGreaterThanOrEqual(20);
    a.peer.stop();
  });
});
