import { afterEach, describe, expect, it } from 'vitest';
import { useGateway } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall } from '../../helpers/rtpCall.js';
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

  it('a burst of createTransport requests gets one transport per direction, the rest 400 (no port taken for them)', async () => {
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
  });
});
