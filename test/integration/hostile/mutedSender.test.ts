import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, sleep, useGateway } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, PACKET_INTERVAL_MS, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * A locked (hard-muted) participant with its own token and an SRTP leg tries every input it has
 * to be heard again: its own SSRC, other SSRCs (another participant's too), a new send stream,
 * rejoining, unmuting itself, and sending into someone else's leg. The listener hears none of it.
 */
describe('hostile participants: a locked participant stays silent whatever it sends', () => {
  const fixture = useGateway();
  let callId: string;
  let mallory: RtpParticipant;
  let bob: RtpParticipant;
  let listener: RtpParticipant;
  let malloryToken: string;
  const admin = () => apiClient(fixture.gateway.url);
  const asMallory = () => apiClient(fixture.gateway.url, malloryToken);
  /** Packets the listener got from mallory's socket since `counter`. */
  const heardFromMallory = (counter: number) => receivedSince(listener.peer, mallory.peer, counter);

  beforeAll(async () => {
    callId = await createGroupCall(admin());
    malloryToken = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    // Mallory joins herself: SRTP, latching (what a participant token may do).
    mallory = await joinRtp(asMallory(), callId, { userId: 'mallory', srtp: 'AES_CM_128_HMAC_SHA1_80' });
    bob = await joinRtp(admin(), callId, { userId: 'bob', srtp: 'AEAD_AES_128_GCM' });
    listener = await joinRtp(admin(), callId, { userId: 'listener' });
    mallory.startStreaming();
    bob.startStreaming();
    // Before the lock she is heard: the measurement below can see her.
    await sleep(400);
    expect(heardFromMallory(0)).toBeGreaterThan(5);
    const locked = await admin().post(`/communications/calls/${callId}/participants/${mallory.id}/lock`, {});
    expect(locked.status).toBe(200);
  });
  afterAll(async () => {
    for (const p of [mallory, bob, listener]) p?.peer.close();
  });

  it('her own stream after the lock: 0 packets forwarded', async () => {
    const from = mallory.peer.nextCounter;
    await sleep(500);
    expect(mallory.peer.nextCounter - from).toBeGreaterThan(10);
    expect(heardFromMallory(from)).toBe(0);
  });

  it('other SSRCs on her own leg, bob\'s included: 0 packets forwarded', async () => {
    const from = mallory.peer.nextCounter;
    for (let i = 0; i < 20; i++) {
      for (const ssrc of [bob.ssrc, listener.ssrc, 0xdeadbeef, 1]) mallory.peer.sendOne({ to: mallory.send, payloadType: PAYLOAD_TYPE, ssrc, payloadBytes: 80 });
      await sleep(PACKET_INTERVAL_MS);
    }
    await sleep(200);
    expect(heardFromMallory(from)).toBe(0);
  });

  it('her packets into bob\'s leg (with her key) are dropped, and bob is still heard', async () => {
    const from = mallory.peer.nextCounter;
    const bobFrom = bob.peer.nextCounter;
    for (let i = 0; i < 20; i++) {
      mallory.peer.sendOne({ to: bob.send, payloadType: PAYLOAD_TYPE, ssrc: bob.ssrc, payloadBytes: 80 });
      await sleep(PACKET_INTERVAL_MS);
    }
    await sleep(200);
    expect(heardFromMallory(from)).toBe(0);
    expect(receivedSince(listener.peer, bob.peer, bobFrom)).toBeGreaterThan(10);
  });

  it('unmuting herself is refused while locked', async () => {
    const res = await asMallory().post(`/communications/calls/${callId}/participants/${mallory.id}/unmute`, {});
    expect(res.status).toBe(403);
    expect(res.body.error.innerError.code).toBe('participantLocked');
    const from = mallory.peer.nextCounter;
    await sleep(300);
    expect(heardFromMallory(from)).toBe(0);
  });

  it('a new send stream (PATCH, new SSRC) starts paused', async () => {
    const ssrc = 0x5151;
    const patched = await asMallory().patch(`/communications/calls/${callId}/participants/${mallory.id}`, { media: { payloadType: PAYLOAD_TYPE, ssrc } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    mallory.peer.stop();
    const from = mallory.peer.nextCounter;
    mallory.peer.start({ to: mallory.send, payloadType: PAYLOAD_TYPE, ssrc, intervalMs: PACKET_INTERVAL_MS, payloadBytes: 80 });
    await sleep(500);
    expect(heardFromMallory(from)).toBe(0);
  });

  it('rejoining (a new leg, new SSRC, new keys) keeps her locked and silent', async () => {
    mallory.peer.stop();
    const again = await joinRtp(asMallory(), callId, { userId: 'mallory', srtp: 'AES_CM_128_HMAC_SHA1_80', peer: mallory.peer });
    expect(again.id).not.toBe(mallory.id);
    const state = await admin().get(`/communications/calls/${callId}/participants/${again.id}`);
    expect(state.body).toMatchObject({ isMuted: true, locked: true });
    const from = mallory.peer.nextCounter;
    again.startStreaming();
    await sleep(600);
    expect(heardFromMallory(from)).toBe(0);
    // The control: the same leg is heard once a moderator unlocks and she unmutes herself.
    expect((await admin().post(`/communications/calls/${callId}/participants/${again.id}/unlock`, {})).status).toBe(200);
    expect((await asMallory().post(`/communications/calls/${callId}/participants/${again.id}/unmute`, {})).status).toBe(200);
    const heardFrom = mallory.peer.nextCounter;
    await sleep(400);
    expect(heardFromMallory(heardFrom)).toBeGreaterThan(5);
  });
});
