import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpPeer, type Address } from '../../../native-bench/lib/RtpPeer.js';
import { SrtpEndpointCodec } from '../../../native-bench/lib/srtp.js';
import type { SrtpCryptoSuite, SrtpKeys } from '../../../src/control/mediaPlane.js';
import { SRTP_KEYING_MATERIAL_BYTES } from '../../../src/media/srtpKeys.js';
import { sleep, useGateway, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';

/**
 * Latching (no `receive`) is safe only because the gateway requires SRTP for it: the worker
 * authenticates a packet before it learns the sender's address from it. An attacker who knows
 * the victim's media port (and SSRC) sends first; none of it may reach anyone, nor move the
 * latch. Real gateway, real worker, real UDP on 127.0.0.1.
 */
describe('SRTP latching cannot be hijacked (real worker, real UDP)', () => {
  const fixture = useGateway({ MUTEGATE_MEDIA_NUM_WORKERS: '1' });
  const peers: RtpPeer[] = [];
  let nextAttackerId = 9000;

  afterEach(() => {
    for (const peer of peers.splice(0)) peer.close();
  });

  async function openPeer(): Promise<RtpPeer> {
    const peer = await RtpPeer.open(nextAttackerId++);
    peers.push(peer);
    return peer;
  }

  async function participantMedia(callId: string, id: string): Promise<{ send: Address | null; receive: Address | null; srtp: SrtpKeys | null; state: string }> {
    const res = await fixture.api.get(`/communications/calls/${callId}/participants/${id}`);
    expect(res.status).toBe(200);
    return res.body.media;
  }

  /** The participant's media once the call was rebuilt after a worker crash (a new send address). */
  async function rebuiltMedia(callId: string, id: string, oldSend: Address | null) {
    const until = Date.now() + 10_000;
    for (;;) {
      const media = await participantMedia(callId, id);
      // While the call is rebuilt the participant has no media (send null).
      if (media.send && media.send.port !== oldSend?.port && media.state === 'connected') return { ...media, send: media.send };
      if (Date.now() > until) throw new Error(`the media of ${id} was not rebuilt in 10 s`);
      await sleep(50);
    }
  }

  /** A call with a plain-RTP listener (explicit receive) and an SRTP victim that has not sent yet. */
  async function victimAndListener(suite: SrtpCryptoSuite = 'AES_CM_128_HMAC_SHA1_80') {
    const callId = await createGroupCall(fixture.api);
    const listener = await joinRtp(fixture.api, callId);
    const victim = await joinRtp(fixture.api, callId, { srtp: suite });
    peers.push(listener.peer, victim.peer);
    expect((await participantMedia(callId, victim.id)).receive).toBeNull();
    return { callId, listener, victim };
  }

  /** Keying material of the suite's length that nobody in the call knows. */
  function strangerCodec(suite: SrtpCryptoSuite): SrtpEndpointCodec {
    const key = () => randomBytes(SRTP_KEYING_MATERIAL_BYTES[suite]).toString('base64');
    return new SrtpEndpointCodec({ cryptoSuite: suite, sendKeyBase64: key(), receiveKeyBase64: key() });
  }

  /** `count` probe packets from `attacker`, 5 ms apart (real packets the worker must see and judge). */
  async function attack(attacker: RtpPeer, to: Address, ssrc: number, count = 40): Promise<void> {
    for (let i = 0; i < count; i++) {
      attacker.sendOne({ to, payloadType: PAYLOAD_TYPE, ssrc, payloadBytes: 80 });
      await sleep(5);
    }
  }

  /** Nothing reached the listener, the victim is not latched; then the victim's own audio latches and flows both ways. */
  async function expectUnlatchedThenVictimWorks(callId: string, listener: RtpParticipant, victim: RtpParticipant, attacker: RtpPeer) {
    await sleep(300); // anything forwarded has landed
    expect(listener.peer.datagramsReceived, 'datagrams forwarded to the listener').toBe(0);
    expect(attacker.datagramsReceived, 'datagrams sent to the attacker').toBe(0);
    expect((await participantMedia(callId, victim.id)).receive, 'latched address').toBeNull();

    victim.startStreaming();
    listener.startStreaming();
    await waitFor(() => receivedSince(listener.peer, victim.peer, 0) >= 10, 5000, 'victim → listener');
    await waitFor(() => receivedSince(victim.peer, listener.peer, 0) >= 10, 5000, 'listener → victim (decrypted with the receive key)');
    expect((await participantMedia(callId, victim.id)).receive).toEqual(victim.peer.address);
    expect(listener.peer.received.every((p) => p.senderId === victim.peer.senderId)).toBe(true);
    expect(attacker.datagramsReceived).toBe(0);
  }

  it('(a) plain RTP under the victim SSRC neither reaches anyone nor latches', async () => {
    const { callId, listener, victim } = await victimAndListener();
    const attacker = await openPeer();
    await attack(attacker, victim.send, victim.ssrc);
    await expectUnlatchedThenVictimWorks(callId, listener, victim, attacker);
  });

  it('(b) SRTP under a wrong key (victim SSRC) neither reaches anyone nor latches', async () => {
    const { callId, listener, victim } = await victimAndListener();
    const attacker = await openPeer();
    attacker.srtp = strangerCodec('AES_CM_128_HMAC_SHA1_80');
    await attack(attacker, victim.send, victim.ssrc);
    await expectUnlatchedThenVictimWorks(callId, listener, victim, attacker);
  });

  it('(c) packets of another SSRC, plain or under a wrong key, neither reach anyone nor latch', async () => {
    const { callId, listener, victim } = await victimAndListener();
    const attacker = await openPeer();
    await attack(attacker, victim.send, victim.ssrc + 77);
    attacker.srtp = strangerCodec('AES_CM_128_HMAC_SHA1_80');
    await attack(attacker, victim.send, victim.ssrc + 78);
    await expectUnlatchedThenVictimWorks(callId, listener, victim, attacker);
  });

  it('(c) plain RTCP (rtcp-mux: same port) does not latch either', async () => {
    const { callId, listener, victim } = await victimAndListener();
    const attacker = await openPeer();
    // An empty receiver report, without SRTCP protection.
    const receiverReport = Buffer.alloc(8);
    receiverReport.writeUInt8(0x80, 0);
    receiverReport.writeUInt8(201, 1);
    receiverReport.writeUInt16BE(1, 2);
    receiverReport.writeUInt32BE(victim.ssrc + 1, 4);
    for (let i = 0; i < 20; i++) {
      attacker.sendDatagram(receiverReport, victim.send);
      await sleep(5);
    }
    await expectUnlatchedThenVictimWorks(callId, listener, victim, attacker);
  });

  it('(c) a datagram mediasoup would take for SCTP does not latch (worker patch 0002)', async () => {
    const { callId, listener, victim } = await victimAndListener();
    const attacker = await openPeer();
    // mediasoup 3.13 takes any datagram whose first four bytes are ports 5000/5000 for SCTP, and
    // unpatched it latches on one before any check, SCTP enabled or not.
    const sctpShaped = Buffer.alloc(28);
    sctpShaped.writeUInt16BE(5000, 0);
    sctpShaped.writeUInt16BE(5000, 2);
    for (let i = 0; i < 20; i++) {
      attacker.sendDatagram(sctpShaped, victim.send);
      await sleep(5);
    }
    await expectUnlatchedThenVictimWorks(callId, listener, victim, attacker);
  });

  it('(d) replayed SRTP of the victim from another address is not forwarded and does not move the latch', async () => {
    const { callId, listener, victim } = await victimAndListener();
    victim.peer.sentDatagrams = [];
    victim.startStreaming();
    listener.startStreaming();
    await waitFor(() => receivedSince(listener.peer, victim.peer, 0) >= 20, 5000, 'victim → listener');
    expect((await participantMedia(callId, victim.id)).receive).toEqual(victim.peer.address);
    const captured = victim.peer.sentDatagrams.splice(0);
    victim.peer.sentDatagrams = null;

    // The victim pauses; the attacker replays every captured packet, byte for byte, from elsewhere.
    victim.peer.stop();
    await sleep(200);
    const heardBefore = listener.peer.from(victim.peer.senderId).length;
    const victimHeardBefore = receivedSince(victim.peer, listener.peer, 0);
    const attacker = await openPeer();
    for (const datagram of captured) {
      attacker.sendDatagram(datagram, victim.send);
      await sleep(2);
    }
    await sleep(300);
    expect(captured.length).toBeGreaterThanOrEqual(20);
    expect(listener.peer.from(victim.peer.senderId).length, 'replays forwarded').toBe(heardBefore);
    expect(attacker.datagramsReceived, 'call audio sent to the attacker').toBe(0);
    expect((await participantMedia(callId, victim.id)).receive).toEqual(victim.peer.address);
    // The victim still gets the call's audio at its own address.
    await waitFor(() => receivedSince(victim.peer, listener.peer, 0) >= victimHeardBefore + 10, 3000, 'listener → victim after the replay');

    // And is still heard.
    const from = victim.peer.nextCounter;
    victim.startStreaming();
    await waitFor(() => receivedSince(listener.peer, victim.peer, from) >= 10, 3000, 'victim → listener after the replay');
    // No probe of the victim arrived twice.
    const counters = listener.peer.from(victim.peer.senderId).map((p) => p.counter);
    expect(new Set(counters).size).toBe(counters.length);
    expect(attacker.datagramsReceived).toBe(0);
  });

  it('(e) a muted SRTP participant is silent after the mute 200, heard again after unmute', async () => {
    const { callId, listener, victim } = await victimAndListener();
    victim.startStreaming();
    await waitFor(() => receivedSince(listener.peer, victim.peer, 0) >= 10, 5000, 'victim → listener');
    const mute = await fixture.api.post(`/communications/calls/${callId}/participants/${victim.id}/mute`, {});
    const counterAtAck = victim.peer.nextCounter;
    expect(mute.status).toBe(200);
    await sleep(800);
    expect(victim.peer.nextCounter - counterAtAck).toBeGreaterThanOrEqual(25);
    expect(receivedSince(listener.peer, victim.peer, counterAtAck)).toBe(0);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${victim.id}/unmute`, {})).status).toBe(200);
    const counterAtUnmute = victim.peer.nextCounter;
    await waitFor(() => receivedSince(listener.peer, victim.peer, counterAtUnmute) >= 5, 3000, 'victim → listener after unmute');
  });

  for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const) {
    it(`(f) ${suite}: two latched SRTP participants hear each other; keys are the suite's length`, async () => {
      const callId = await createGroupCall(fixture.api);
      // One asks for its own send key, the other lets the gateway generate it.
      const ownKey = randomBytes(SRTP_KEYING_MATERIAL_BYTES[suite]).toString('base64');
      const x = await joinRtp(fixture.api, callId, { srtp: { cryptoSuite: suite, keyBase64: ownKey } });
      const y = await joinRtp(fixture.api, callId, { srtp: suite });
      peers.push(x.peer, y.peer);
      expect(x.srtp?.sendKeyBase64).toBe(ownKey);
      for (const keys of [x.srtp, y.srtp]) {
        expect(keys?.cryptoSuite).toBe(suite);
        expect(Buffer.from(keys!.sendKeyBase64, 'base64')).toHaveLength(SRTP_KEYING_MATERIAL_BYTES[suite]);
        expect(Buffer.from(keys!.receiveKeyBase64, 'base64')).toHaveLength(SRTP_KEYING_MATERIAL_BYTES[suite]);
        expect(keys!.receiveKeyBase64).not.toBe(keys!.sendKeyBase64);
      }
      x.startStreaming();
      y.startStreaming();
      await waitFor(() => receivedSince(y.peer, x.peer, 0) >= 10 && receivedSince(x.peer, y.peer, 0) >= 10, 5000, 'x ↔ y');
      expect(x.peer.srtpRejected + y.peer.srtpRejected).toBe(0);
      // The stored participant keeps no key the client sent, but GET shows the live keys.
      expect((await participantMedia(callId, x.id)).srtp).toEqual(x.srtp);
    });
  }

  it('refuses a client key of the wrong length for the suite', async () => {
    const callId = await createGroupCall(fixture.api);
    const res = await fixture.api.post(`/communications/calls/${callId}/participants`, {
      info: { identity: { user: { id: 'short-key' } } },
      media: { kind: 'rtp', payloadType: PAYLOAD_TYPE, ssrc: 5151, srtp: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: randomBytes(30).toString('base64') } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/28/);
  });

  // Last: it kills the only worker (the pool starts a new one).
  it('(g) after a worker crash the keys are new: the old key gets nothing through, the new one does', async () => {
    const { callId, listener, victim } = await victimAndListener();
    victim.startStreaming();
    listener.startStreaming();
    await waitFor(() => receivedSince(listener.peer, victim.peer, 0) >= 10, 5000, 'victim → listener before the crash');
    const before = await participantMedia(callId, victim.id);
    expect(before.srtp).toEqual(victim.srtp);

    const [deadPid] = fixture.gateway.pool.pids;
    process.kill(deadPid as number, 'SIGKILL');
    victim.peer.stop();
    listener.peer.stop();
    const after = await rebuiltMedia(callId, victim.id, before.send);
    expect(after.srtp?.cryptoSuite).toBe(before.srtp?.cryptoSuite);
    expect(after.srtp?.sendKeyBase64).not.toBe(before.srtp?.sendKeyBase64);
    expect(after.srtp?.receiveKeyBase64).not.toBe(before.srtp?.receiveKeyBase64);
    expect(after.receive).toBeNull();

    // The listener (explicit receive) follows its new address.
    const listenerSend = await rebuiltMedia(callId, listener.id, listener.send).then((m) => m.send);
    listener.peer.start({ to: listenerSend, payloadType: PAYLOAD_TYPE, ssrc: listener.ssrc, intervalMs: 20 });

    // The victim keeps its old keys: nothing gets through, nothing latches, it hears nothing.
    const oldKeyFrom = victim.peer.nextCounter;
    const victimHeard = victim.peer.rtpPacketsReceived;
    victim.peer.start({ to: after.send, payloadType: PAYLOAD_TYPE, ssrc: victim.ssrc, intervalMs: 20 });
    await sleep(800);
    expect(victim.peer.nextCounter - oldKeyFrom).toBeGreaterThanOrEqual(25);
    expect(receivedSince(listener.peer, victim.peer, oldKeyFrom)).toBe(0);
    expect(victim.peer.rtpPacketsReceived).toBe(victimHeard);
    expect((await participantMedia(callId, victim.id)).receive).toBeNull();

    // With the keys read again from GET it is heard, and hears the call.
    victim.peer.srtp = new SrtpEndpointCodec(after.srtp as SrtpKeys);
    const newKeyFrom = victim.peer.nextCounter;
    await waitFor(() => receivedSince(listener.peer, victim.peer, newKeyFrom) >= 10, 5000, 'victim → listener with the new keys');
    await waitFor(() => victim.peer.rtpPacketsReceived >= victimHeard + 10, 5000, 'listener → victim with the new keys');
    expect((await participantMedia(callId, victim.id)).receive).toEqual(victim.peer.address);
  });
});
