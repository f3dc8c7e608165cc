import { afterEach, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../native-bench/lib/RtpPeer.js';
import { metricValue, sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { createGroupCall, joinRtp, receivedSince } from '../helpers/rtpCall.js';

/**
 * Server mute against the real mediasoup worker with real RTP over UDP on 127.0.0.1.
 * Every probe packet carries its sender and a counter, so "sent after the 200 OK arrived"
 * is exact: counter ≥ the sender's next counter at the moment the response was read.
 */
describe('server mute drops RTP inside the worker (real worker, real UDP)', () => {
  const fixture = useGateway();
  const peers: RtpPeer[] = [];

  afterEach(() => {
    for (const peer of peers.splice(0)) peer.close();
  });

  async function threeParticipants() {
    const callId = await createGroupCall(fixture.api);
    // A and B latch (SRTP: the gateway learns their address from their first authenticated packet).
    const a = await joinRtp(fixture.api, callId, { srtp: 'AES_CM_128_HMAC_SHA1_80' });
    const b = await joinRtp(fixture.api, callId, { srtp: 'AES_CM_128_HMAC_SHA1_80' });
    const c = await joinRtp(fixture.api, callId); // receive-only, explicit address
    peers.push(a.peer, b.peer, c.peer);
    a.startStreaming();
    b.startStreaming();
    // Everyone hears A, and A hears B (latching learned A's address from its SRTP).
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 10 && receivedSince(c.peer, a.peer, 0) >= 10, 5000, 'A → B, C');
    await waitFor(() => receivedSince(a.peer, b.peer, 0) >= 5, 5000, 'B → A');
    return { callId, a, b, c };
  }

  it('forwards nothing A sends after the mute 200 OK while A keeps streaming; unmute forwards again', async () => {
    const { callId, a, b, c } = await threeParticipants();

    const mute = await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, { clientContext: 'mute-ctx-1' });
    const counterAtMuteAck = a.peer.nextCounter;
    expect(mute.status).toBe(200);
    expect(mute.body).toMatchObject({
      '@odata.type': '#microsoft.graph.muteParticipantOperation',
      status: 'completed',
      clientContext: 'mute-ctx-1',
    });
    expect(mute.headers.get('location')).toBe(`/communications/calls/${callId}/operations/${mute.body.id}`);

    // A keeps streaming for a second; B keeps streaming too.
    const bCounterAtMute = b.peer.nextCounter;
    await sleep(1000);
    expect(a.peer.nextCounter - counterAtMuteAck).toBeGreaterThanOrEqual(30);
    await sleep(200); // anything in flight has landed
    expect(receivedSince(b.peer, a.peer, counterAtMuteAck)).toBe(0);
    expect(receivedSince(c.peer, a.peer, counterAtMuteAck)).toBe(0);
    // Only A is muted: A and C still hear B.
    expect(receivedSince(a.peer, b.peer, bCounterAtMute)).toBeGreaterThanOrEqual(30);
    expect(receivedSince(c.peer, b.peer, bCounterAtMute)).toBeGreaterThanOrEqual(30);

    const roster = await fixture.api.get(`/communications/calls/${callId}/participants`);
    const aInRoster = roster.body.value.find((p: { id: string }) => p.id === a.id);
    expect(aInRoster).toMatchObject({ isMuted: true, isInLobby: false });
    expect(aInRoster.mediaStreams).toEqual([
      expect.objectContaining({ mediaType: 'audio', label: 'main-audio', direction: 'sendReceive', serverMuted: true, sourceId: String(a.ssrc) }),
    ]);
    expect(roster.body.value.filter((p: { isMuted: boolean }) => p.isMuted)).toHaveLength(1);

    const stored = await fixture.api.get(mute.headers.get('location') as string);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ id: mute.body.id, status: 'completed', clientContext: 'mute-ctx-1' });

    const counterAtUnmuteRequest = a.peer.nextCounter;
    const unmute = await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, { clientContext: 'unmute-ctx' });
    const counterAtUnmuteAck = a.peer.nextCounter;
    expect(unmute.status).toBe(200);
    expect(unmute.body).toMatchObject({ '@odata.type': '#microsoft.graph.unmuteParticipantOperation', status: 'completed' });
    await waitFor(
      () => receivedSince(b.peer, a.peer, counterAtUnmuteAck) >= 10 && receivedSince(c.peer, a.peer, counterAtUnmuteAck) >= 10,
      3000,
      'A forwarded again after unmute',
    );
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${a.id}`)).body.isMuted).toBe(false);

    // The worker counted what it received from A and dropped while A was muted.
    const dropped = metricValue((await fixture.api.get('/metrics')).body, 'mutegate_muted_packets_dropped_total');
    const sentWhileMuted = counterAtUnmuteRequest - counterAtMuteAck;
    expect(dropped).toBeGreaterThanOrEqual(sentWhileMuted - 2);
    expect(dropped).toBeLessThanOrEqual(counterAtUnmuteAck - counterAtMuteAck + 5);
  });

  it('keeps a muted person silent from the first packet when they rejoin, replace their leg, or change SSRC', async () => {
    const { callId, a, b } = await threeParticipants();
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    a.peer.stop();

    // Leave and rejoin with the same identity: a new participant, a new producer, started paused.
    expect((await fixture.api.delete(`/communications/calls/${callId}/participants/${a.id}`)).status).toBe(204);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${a.id}`)).status).toBe(404);
    const rejoined = await joinRtp(fixture.api, callId, { userId: a.userId });
    peers.push(rejoined.peer);
    expect(rejoined.id).not.toBe(a.id);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${rejoined.id}`)).body.isMuted).toBe(true);
    rejoined.startStreaming();
    await sleep(800);
    expect(rejoined.peer.nextCounter).toBeGreaterThanOrEqual(30);
    expect(receivedSince(b.peer, rejoined.peer, 0)).toBe(0);

    // Join again without leaving: the old leg is replaced, the mute stays.
    rejoined.peer.stop();
    const replaced = await joinRtp(fixture.api, callId, { userId: a.userId });
    peers.push(replaced.peer);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${rejoined.id}`)).status).toBe(404);
    replaced.startStreaming();
    await sleep(500);
    expect(receivedSince(b.peer, replaced.peer, 0)).toBe(0);

    // A new send stream (new SSRC, as after a SIP re-INVITE) is still paused.
    replaced.peer.stop();
    const newSsrc = replaced.ssrc + 5000;
    const patched = await fixture.api.patch(`/communications/calls/${callId}/participants/${replaced.id}`, {
      media: { payloadType: 100, ssrc: newSsrc },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ isMuted: true, media: { ssrc: newSsrc } });
    const counterAtPatch = replaced.peer.nextCounter;
    replaced.peer.start({ to: replaced.send, payloadType: 100, ssrc: newSsrc, intervalMs: 20 });
    await sleep(500);
    expect(receivedSince(b.peer, replaced.peer, counterAtPatch)).toBe(0);

    // And unmuting that stream lets it through.
    const unmute = await fixture.api.post(`/communications/calls/${callId}/participants/${replaced.id}/unmute`, {});
    expect(unmute.status).toBe(200);
    const counterAtUnmute = replaced.peer.nextCounter;
    await waitFor(() => receivedSince(b.peer, replaced.peer, counterAtUnmute) >= 5, 3000, 'new SSRC forwarded after unmute');
  });

  it('mutes the application participant through /calls/{id}/mute', async () => {
    const { RtpPeer } = await import('../../native-bench/lib/RtpPeer.js');
    const botPeer = await RtpPeer.open(900);
    peers.push(botPeer);
    const created = await fixture.api.post('/communications/calls', {
      subject: 'bot call',
      source: { identity: { application: { id: 'mutegate-bot', displayName: 'Bot' } } },
      media: { kind: 'rtp', payloadType: 100, ssrc: 4242, receive: botPeer.address },
    });
    expect(created.status).toBe(201);
    const callId = created.body.id;
    const botId = created.body.myParticipantId;
    expect(botId).toEqual(expect.any(String));
    const bot = (await fixture.api.get(`/communications/calls/${callId}/participants/${botId}`)).body;
    const listener = await joinRtp(fixture.api, callId);
    peers.push(listener.peer);
    listener.startStreaming();
    botPeer.start({ to: bot.media.send, payloadType: 100, ssrc: 4242, intervalMs: 20 });
    await waitFor(() => receivedSince(listener.peer, botPeer, 0) >= 10, 5000, 'bot audio');

    const mute = await fixture.api.post(`/communications/calls/${callId}/mute`, { clientContext: 'bot-self-mute' });
    const counterAtAck = botPeer.nextCounter;
    expect(mute.status).toBe(200);
    expect(mute.body).toMatchObject({ '@odata.type': '#microsoft.graph.muteParticipantOperation', status: 'completed', clientContext: 'bot-self-mute' });
    await sleep(600);
    expect(receivedSince(listener.peer, botPeer, counterAtAck)).toBe(0);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${botId}`)).body.isMuted).toBe(true);

    const unmute = await fixture.api.post(`/communications/calls/${callId}/unmute`);
    expect(unmute.status).toBe(200);
    const counterAtUnmute = botPeer.nextCounter;
    await waitFor(() => receivedSince(listener.peer, botPeer, counterAtUnmute) >= 5, 3000, 'bot audio after unmute');
  });

  it('stops all forwarding when the call is deleted', async () => {
    const { callId, a, b } = await threeParticipants();
    expect((await fixture.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
    const counterAtDelete = a.peer.nextCounter;
    await sleep(500);
    expect(receivedSince(b.peer, a.peer, counterAtDelete)).toBe(0);
    expect((await fixture.api.get(`/communications/calls/${callId}`)).status).toBe(404);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${a.id}`)).status).toBe(404);
  });

  it('ends with media agreeing with the state after many concurrent mute/unmute requests', async () => {
    const { callId, a, b } = await threeParticipants();
    const requests = Array.from({ length: 60 }, (_, i) =>
      fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/${i % 2 === 0 ? 'mute' : 'unmute'}`, { clientContext: `op-${i}` }),
    );
    const responses = await Promise.all(requests);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.every((r) => r.body.status === 'completed')).toBe(true);
    // Whatever the final state is, the media must agree with it.
    const state = (await fixture.api.get(`/communications/calls/${callId}/participants/${a.id}`)).body.isMuted;
    const counterNow = a.peer.nextCounter;
    if (state) {
      await sleep(600);
      expect(receivedSince(b.peer, a.peer, counterNow)).toBe(0);
    } else {
      await waitFor(() => receivedSince(b.peer, a.peer, counterNow) >= 5, 3000, 'A forwarded while unmuted');
    }
    // Settle on a known final state and check again.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    const counterAtFinalMute = a.peer.nextCounter;
    await sleep(600);
    expect(receivedSince(b.peer, a.peer, counterAtFinalMute)).toBe(0);
  });
});
