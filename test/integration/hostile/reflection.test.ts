import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import { apiClient, sleep, useGateway } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, type RtpParticipant } from '../../helpers/rtpCall.js';
import { appToken, tokenFor } from '../../helpers/tokens.js';

/**
 * The SFU sends media only where a trusted party or an authenticated packet says: never to an
 * address a participant merely names (a UDP reflector whose volume grows with the talkers), and
 * even the application cannot aim it at broadcast, multicast, link-local, unspecified,
 * wrong-family or out-of-policy addresses, or at service ports.
 */
describe('hostile participants: no reflection through media.receive', () => {
  const fixture = useGateway();
  let callId: string;
  let talker: RtpParticipant;
  /** An unrelated UDP service on this machine that the attacker wants flooded. */
  let victim: RtpPeer;
  const admin = () => apiClient(fixture.gateway.url);
  const join = (token: string | Promise<string>, userId: string, media: Record<string, unknown>) =>
    apiClient(fixture.gateway.url, token).post(`/communications/calls/${callId}/participants`, {
      info: { identity: { user: { id: userId } } },
      media: { kind: 'rtp', payloadType: PAYLOAD_TYPE, ssrc: 0x7000 + userId.length, ...media },
    });
  const participantIds = async () => (await admin().get(`/communications/calls/${callId}/participants`)).body.value.map((p: { id: string }) => p.id);

  beforeAll(async () => {
    callId = await createGroupCall(admin());
    talker = await joinRtp(admin(), callId, { userId: 'talker' });
    talker.startStreaming();
    victim = await RtpPeer.open(900);
  });
  afterAll(async () => {
    talker?.peer.close();
    victim?.close();
  });

  it('a participant token cannot name a receive address, with or without SRTP: 403, nothing stored, 0 packets reflected', async () => {
    const mallory = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    const before = await participantIds();
    const plain = await join(mallory, 'mallory', { receive: victim.address });
    expect(plain.status, JSON.stringify(plain.body)).toBe(403);
    expect(plain.body.error.innerError.code).toBe('untrustedRtp');
    const srtp = await join(mallory, 'mallory', { srtp: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' }, receive: victim.address });
    expect(srtp.status).toBe(403);
    expect(srtp.body.error.innerError.code).toBe('untrustedRtp');
    // Plain RTP that would latch onto anyone's packet is refused outright.
    const latching = await join(mallory, 'mallory', {});
    expect(latching.status).toBe(400);
    expect(latching.body.error.innerError.code).toBe('srtpRequiredForLatching');
    expect(await participantIds()).toEqual(before);
    await sleep(1000); // the talker sends 50 packets/s meanwhile
    expect(victim.datagramsReceived).toBe(0);
  });

  it('a participant cannot redirect its own leg either (PATCH carries no address)', async () => {
    const mallory = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    const joined = await join(mallory, 'mallory', { srtp: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' } });
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    const patched = await apiClient(fixture.gateway.url, mallory).patch(`/communications/calls/${callId}/participants/${joined.body.id}`, {
      media: { payloadType: PAYLOAD_TYPE, ssrc: 0x7777, receive: victim.address },
    });
    expect(patched.status).toBeLessThan(500);
    await sleep(500);
    expect(victim.datagramsReceived).toBe(0);
    expect((await admin().get(`/communications/calls/${callId}/participants/${joined.body.id}`)).body.media.receive).toBeNull();
  });

  const refused: [string, { ip: string; port: number }, string][] = [
    ['unspecified IPv4', { ip: '0.0.0.0', port: 40000 }, 'receiveAddressNotAllowed'],
    ['unspecified IPv6', { ip: '::', port: 40000 }, 'receiveAddressFamily'],
    ['IPv4 multicast', { ip: '224.0.0.1', port: 40000 }, 'receiveAddressNotAllowed'],
    ['IPv6 multicast', { ip: 'ff02::1', port: 40000 }, 'receiveAddressFamily'],
    ['limited broadcast', { ip: '255.255.255.255', port: 40000 }, 'receiveAddressNotAllowed'],
    ['link-local metadata service', { ip: '169.254.169.254', port: 80 }, 'receiveAddressNotAllowed'],
    ['public DNS resolver', { ip: '8.8.8.8', port: 53 }, 'receiveAddressNotAllowed'],
    ['public address, high port', { ip: '8.8.8.8', port: 40000 }, 'receiveAddressNotAllowed'],
    ['IPv6 loopback on the IPv4 media socket', { ip: '::1', port: 40000 }, 'receiveAddressFamily'],
    ['IPv4-mapped IPv6', { ip: '::ffff:127.0.0.1', port: 40000 }, 'receiveAddressFamily'],
    ['a service port on loopback', { ip: '127.0.0.1', port: 53 }, 'receiveAddressNotAllowed'],
  ];
  for (const [what, receive, code] of refused) {
    it(`even the application cannot send media to ${what} (${receive.ip}:${receive.port}): 400 ${code}`, async () => {
      const before = await participantIds();
      const res = await join(appToken(), `app-target-${what}`, { receive });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'badRequest', innerError: expect.objectContaining({ code }) });
      expect(await participantIds()).toEqual(before);
    });
  }

  it('the same policy guards the application leg given at call creation: no call is created', async () => {
    const calls = (await admin().get('/communications/calls')).body.value.length;
    const res = await admin().post('/communications/calls', {
      source: { identity: { application: { id: 'bot' } } },
      media: { kind: 'rtp', payloadType: PAYLOAD_TYPE, ssrc: 42, receive: { ip: '255.255.255.255', port: 40000 } },
    });
    expect(res.status).toBe(400);
    expect((await admin().get('/communications/calls')).body.value.length).toBe(calls);
  });

  it('a trusted receive address gets the audio, and only from that address is RTP accepted', async () => {
    const sink = await joinRtp(admin(), callId, { userId: 'sink' });
    await sleep(500);
    expect(sink.peer.from(talker.peer.senderId).length).toBeGreaterThan(5);
    // A stranger sending with the sink's SSRC to the sink's port is not forwarded.
    const stranger = await RtpPeer.open(sink.peer.senderId); // same sender id: its packets would count as the sink's
    const listener = await joinRtp(admin(), callId, { userId: 'listener' });
    stranger.start({ to: sink.send, payloadType: PAYLOAD_TYPE, ssrc: sink.ssrc, intervalMs: 20, payloadBytes: 80 });
    await sleep(600);
    stranger.close();
    expect(listener.peer.from(sink.peer.senderId).length).toBe(0);
    sink.peer.close();
    listener.peer.close();
  });
});
