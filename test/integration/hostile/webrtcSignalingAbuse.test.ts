import { afterEach, describe, expect, it } from 'vitest';
import { sleep, useGateway } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * A hostile WebRTC participant speaking the signaling protocol itself (not the page, not
 * mediasoup-client), with a participant token of its own. No DTLS is needed for any of this:
 * connectTransport only hands the worker parameters, and produce answers without media.
 */
describe('hostile WebRTC participants: signaling requests out of order, in bursts, with odd parameters', () => {
  const fixture = useGateway({ MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '200' });
  const clients: RosterClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  async function mallory(callId: string): Promise<RosterClient> {
    const token = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    const c = await RosterClient.connect(fixture.gateway.url, 'json', token);
    clients.push(c);
    return c;
  }

  async function routerCaps(c: RosterClient, callId: string): Promise<unknown> {
    return (await c.answer(c.request({ type: 'getRouterRtpCapabilities', callId }))).body.rtpCapabilities;
  }

  it('a burst of createTransport requests gets one transport per direction, the rest 400 (no port taken for them); a produce clashing with the current producer is a 400', async () => {
    const callId = await createGroupCall(fixture.api);
    const c = await mallory(callId);
    const join = await c.answer(c.request({ type: 'join', callId, userId: 'mallory', rtpCapabilities: await routerCaps(c, callId) }));
    const participantId = join.body.participantId as string;
    // All sent before the gateway answers the first: each arrives while the worker creates the first transport.
    const requests = (['send', 'recv'] as const).flatMap((direction) =>
      Array.from({ length: 40 }, () => ({ direction, requestId: c.request({ type: 'createTransport', callId, participantId, direction }) })),
    );
    const answers = await Promise.all(requests.map(async ({ direction, requestId }) => ({ direction, answer: await c.answer(requestId) })));
    for (const direction of ['send', 'recv'] as const) {
      const of = answers.filter((a) => a.direction === direction).map((a) => a.answer);
      expect(of.filter((a) => a.status === 200).length, `${direction} transports created`).toBe(1);
      for (const refused of of.filter((a) => a.status !== 200)) {
        expect(refused).toMatchObject({ status: 400, error: { innerError: expect.objectContaining({ code: 'invalidMediaRequest' }) } });
      }
    }
    // The one send transport works: it connects and produces.
    const send = answers.find((a) => a.direction === 'send' && a.answer.status === 200)!.answer.body.transport;
    const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }] };
    expect((await c.answer(c.request({ type: 'connectTransport', callId, participantId, transportId: send.id, dtlsParameters }))).status).toBe(200);
    const rtpParameters = { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] };
    expect((await c.answer(c.request({ type: 'produce', callId, participantId, transportId: send.id, kind: 'audio', rtpParameters }))).status).toBe(200);

    // Producing again with the MID, SSRC or RTX SSRC of the current producer: the client's mistake (400), not a 503 to retry.
    const opus = rtpParameters.codecs;
    const again = await c.answer(c.request({ type: 'produce', callId, participantId, transportId: send.id, kind: 'audio', rtpParameters: { mid: '0', codecs: opus, encodings: [{ ssrc: 2222 }] } }));
    expect(again.status, JSON.stringify(again)).toBe(200);
    for (const clash of [
      { mid: '0', codecs: opus, encodings: [{ ssrc: 3333 }] },
      { mid: '1', codecs: opus, encodings: [{ ssrc: 2222 }] },
    ]) {
      const produced = await c.answer(c.request({ type: 'produce', callId, participantId, transportId: send.id, kind: 'audio', rtpParameters: clash }));
      expect(produced, JSON.stringify(clash)).toMatchObject({ status: 400, error: { innerError: expect.objectContaining({ code: 'invalidMediaRequest' }) } });
    }
  });

  it('capabilities mediasoup cannot consume with are refused at join, not after the receive transport was answered', async () => {
    const callId = await createGroupCall(fixture.api);
    // Someone to be offered: the receive transport makes the gateway consume them at once.
    const source = await joinRtp(fixture.api, callId, { userId: 'source' });
    const c = await mallory(callId);
    const opus = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000 };
    for (const rtpCapabilities of [
      { codecs: [opus] }, // no channels: mediasoup reads mono, and matches Opus stereo to nothing
      { codecs: [{ ...opus, channels: 1 }] },
      { codecs: [{ ...opus, channels: 2, parameters: { useinbandfec: {} } }] },
      { codecs: [{ ...opus, channels: 2, rtcpFeedback: [{ type: 7 }] }] },
      { codecs: [{ ...opus, channels: 2, preferredPayloadType: 'x' }] },
      { codecs: [{ ...opus, channels: 2 }], headerExtensions: [{ kind: 'audio', uri: 'urn:x', preferredId: 'one' }] },
    ]) {
      const join = await c.answer(c.request({ type: 'join', callId, userId: 'mallory', rtpCapabilities }));
      expect(join, JSON.stringify(rtpCapabilities)).toMatchObject({ type: 'error', status: 400, error: { innerError: expect.objectContaining({ code: 'invalidMediaRequest' }) } });
    }
    expect([...fixture.gateway.service.getCall(callId).participants.values()].map((p) => p.id)).toEqual([source.id]);

    // Capabilities as mediasoup-client's device gives them: one answer to the receive transport, and the offer.
    const join = await c.answer(c.request({ type: 'join', callId, userId: 'mallory', rtpCapabilities: await routerCaps(c, callId) }));
    const recv = c.request({ type: 'createTransport', callId, participantId: join.body.participantId, direction: 'recv' });
    expect(await c.answer(recv)).toMatchObject({ type: 'response', status: 200 });
    await sleep(300);
    expect(c.answersTo(recv)).toHaveLength(1);
    expect(c.messages.some((m) => m.type === 'newConsumer' && m.sourceParticipantId === source.id)).toBe(true);
    source.peer.close();
  });
});
