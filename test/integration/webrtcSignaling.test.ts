import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientMessage } from '../../src/proto/contract.js';
import { useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp } from '../helpers/rtpCall.js';

/** The WebRTC signaling protocol (its offers of streams, and its error paths), over both encodings, against the real worker. */
describe('WebRTC signaling errors (real gateway, real worker)', () => {
  const fixture = useGateway({ MUTEGATE_WS_MAX_FRAME_BYTES: '65536' });
  let callId: string;
  const clients: RosterClient[] = [];

  beforeAll(async () => {
    callId = await createGroupCall(fixture.api);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  async function client(encoding: 'json' | 'proto' = 'json') {
    const c = await RosterClient.connect(fixture.gateway.url, encoding);
    clients.push(c);
    return c;
  }

  /** The answer to a request as the typed client reads it, in either encoding. */
  async function answerFrame(c: RosterClient, requestId: string) {
    const of = () => c.frames.find((f) => (f.type === 'response' || f.type === 'error') && f.requestId === requestId);
    await waitFor(() => of() !== undefined, 5000, `answer to ${requestId}`);
    return of()!;
  }

  async function joined(c: RosterClient, userId: string) {
    const caps = await answerFrame(c, c.request({ type: 'getRouterRtpCapabilities', callId }));
    expect(caps.type, JSON.stringify(caps)).toBe('response');
    const rtpCapabilities = caps.type === 'response' ? caps.body.rtpCapabilities : undefined;
    const join = await answerFrame(c, c.request({ type: 'join', callId, userId, displayName: userId, rtpCapabilities }));
    expect(join.type, JSON.stringify(join)).toBe('response');
    return join.type === 'response' ? (join.body.participantId as string) : '';
  }

  const innerCode = (m: any) => m.error?.innerError?.code;

  for (const encoding of ['json', 'proto'] as const) {
    it(`tells the client (${encoding}) of each stream it receives and of each that goes away: newConsumer, consumerClosed`, async () => {
      const c = await client(encoding);
      const participantId = await joined(c, `receiver-${encoding}`);
      expect(await answerFrame(c, c.request({ type: 'createTransport', callId, participantId, direction: 'recv' }))).toMatchObject({ type: 'response' });
      const offers = () => c.frames.flatMap((f) => (f.type === 'consumer' ? [f] : []));
      const closed = () => c.frames.flatMap((f) => (f.type === 'consumerClosed' ? [f.consumerId] : []));

      const source = await joinRtp(fixture.api, callId);
      const offerOf = async (n: number) => {
        await waitFor(() => offers().filter((o) => o.sourceParticipantId === source.id).length >= n, 3000, `offer ${n} of the RTP source`);
        return offers().filter((o) => o.sourceParticipantId === source.id)[n - 1]!;
      };
      const first = await offerOf(1);
      expect(first).toMatchObject({ callId, participantId, kind: 'audio' });

      // A new send stream: the old consumer is closed, a new one offered.
      const patched = await fixture.api.patch(`/communications/calls/${callId}/participants/${source.id}`, { media: { payloadType: 100, ssrc: source.ssrc + 9000 } });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      await waitFor(() => closed().includes(first.consumerId), 3000, 'consumerClosed of the replaced stream');
      const second = await offerOf(2);
      expect(second.consumerId).not.toBe(first.consumerId);

      // The source leaves: its consumer is closed too.
      expect((await fixture.api.delete(`/communications/calls/${callId}/participants/${source.id}`)).status).toBe(204);
      await waitFor(() => closed().includes(second.consumerId), 3000, 'consumerClosed of the source that left');
      source.peer.close();
    });
  }

  it('rejects signaling for an unknown call', async () => {
    const c = await client();
    expect(innerCode(await c.answer(c.request({ type: 'getRouterRtpCapabilities', callId: 'no-such-call' })))).toBe('callNotFound');
    expect(innerCode(await c.answer(c.request({ type: 'join', callId: 'no-such-call', userId: 'u', rtpCapabilities: {} })))).toBe('callNotFound');
  });

  it('refuses device capabilities it cannot use at join (400, nobody left in the call)', async () => {
    const c = await client();
    const before = (await fixture.api.get(`/communications/calls/${callId}/participants`)).body.value.length;
    for (const rtpCapabilities of [{ codecs: 'x' }, null, { codecs: [{ kind: 'audio' }] }, { codecs: [{ kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 }] }, { codecs: [], headerExtensions: 'x' }]) {
      const join = await c.answer(c.request({ type: 'join', callId, userId: 'device-x', rtpCapabilities }));
      expect(join, JSON.stringify(rtpCapabilities)).toMatchObject({ type: 'error', status: 400 });
    }
    expect((await fixture.api.get(`/communications/calls/${callId}/participants`)).body.value.length).toBe(before);
    // A device with Opus joins and gets its receive transport.
    const participantId = await joined(c, 'device-ok');
    const recv = c.request({ type: 'createTransport', callId, participantId, direction: 'recv' });
    expect(await c.answer(recv)).toMatchObject({ type: 'response', status: 200 });
  });

  it('refuses produce before connect, bad DTLS parameters, a second send transport and foreign participants', async () => {
    const c = await client();
    const participantId = await joined(c, 'signal-a');
    const own = { callId, participantId };
    const send = (await c.answer(c.request({ type: 'createTransport', ...own, direction: 'send' }))).body.transport;
    expect(send).toMatchObject({ id: expect.any(String), iceParameters: expect.any(Object), dtlsParameters: { role: 'auto' } });
    expect(send.iceCandidates[0]).toMatchObject({ ip: '127.0.0.1', protocol: 'udp' });

    const produce = await c.answer(c.request({ type: 'produce', ...own, transportId: send.id, kind: 'audio', rtpParameters: { codecs: [], encodings: [] } }));
    expect(produce).toMatchObject({ status: 400, error: { innerError: expect.objectContaining({ code: 'invalidMediaRequest' }) } });
    expect(produce.error.message).toMatch(/not connected/);

    for (const dtlsParameters of [{}, { role: 'client', fingerprints: [] }, { role: 'client', fingerprints: [{ algorithm: 'md5', value: 'AB:CD' }] }]) {
      const bad = await c.answer(c.request({ type: 'connectTransport', ...own, transportId: send.id, dtlsParameters }));
      expect(bad.status, JSON.stringify(bad)).toBe(400);
    }
    // Well-formed parameters connect (once).
    const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }] };
    expect((await c.answer(c.request({ type: 'connectTransport', ...own, transportId: send.id, dtlsParameters }))).status).toBe(200);
    const again = await c.answer(c.request({ type: 'connectTransport', ...own, transportId: send.id, dtlsParameters }));
    expect(again.error.message).toMatch(/already connected/);
    const unknownTransport = await c.answer(c.request({ type: 'connectTransport', ...own, transportId: 'nope', dtlsParameters: { role: 'client', fingerprints: [] } }));
    expect(unknownTransport.error.message).toMatch(/no transport nope/);
    expect(innerCode(await c.answer(c.request({ type: 'createTransport', ...own, direction: 'send' })))).toBe('invalidMediaRequest');
    expect(innerCode(await c.answer(c.request({ type: 'resumeConsumer', ...own, consumerId: 'nope' })))).toBe('invalidMediaRequest');

    // Another connection cannot signal for this participant.
    const other = await client();
    const foreign = await other.answer(other.request({ type: 'createTransport', ...own, direction: 'recv' }));
    expect(foreign).toMatchObject({ status: 403, error: { code: 'accessDenied', innerError: expect.objectContaining({ code: 'notYourParticipant' }) } });

    // A WebRTC participant cannot be re-produced through the plain-RTP PATCH.
    const patch = await fixture.api.patch(`/communications/calls/${callId}/participants/${participantId}`, { media: { payloadType: 100, ssrc: 5 } });
    expect(patch.status).toBe(400);
    expect(patch.body.error.innerError.code).toBe('notAnRtpParticipant');

    // Leaving removes it from the roster.
    expect((await c.answer(c.request({ type: 'leave', ...own }))).status).toBe(200);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${participantId}`)).status).toBe(404);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
  });

  it('answers client mistakes the worker catches (two connects at once, a video codec, two encodings) with 400, never 503', async () => {
    const c = await client();
    const participantId = await joined(c, 'signal-b');
    const own = { callId, participantId };
    const send = (await c.answer(c.request({ type: 'createTransport', ...own, direction: 'send' }))).body.transport;
    const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('CD').join(':') }] };
    // Sent back to back: the second arrives while the worker is still connecting the first.
    const first = c.request({ type: 'connectTransport', ...own, transportId: send.id, dtlsParameters });
    const second = c.request({ type: 'connectTransport', ...own, transportId: send.id, dtlsParameters });
    const answers = [await c.answer(first), await c.answer(second)];
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    const opus = { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 };
    for (const rtpParameters of [
      { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 3 }] },
      { codecs: [opus], encodings: [{ ssrc: 1 }, { ssrc: 2 }] },
    ]) {
      const produced = await c.answer(c.request({ type: 'produce', ...own, transportId: send.id, kind: 'audio', rtpParameters }));
      expect(produced.status, JSON.stringify(produced)).toBe(400);
      expect(innerCode(produced)).toBe('invalidMediaRequest');
    }
    const huge = await c.answer(c.request({ type: 'produce', ...own, transportId: send.id, kind: 'audio', rtpParameters: { codecs: [opus], encodings: [{ ssrc: 2 ** 40 }] } }));
    expect(huge.status, JSON.stringify(huge)).toBe(400);
    // A leg replaced by a rejoin from another connection: signaling for it is a 404, not a 503 to retry.
    const elsewhere = await client();
    await joined(elsewhere, 'signal-b');
    const stale = await c.answer(c.request({ type: 'createTransport', ...own, direction: 'recv' }));
    expect(stale.status, JSON.stringify(stale)).toBe(404);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
  });

  it('validates signaling requests in both encodings', async () => {
    const c = await client();
    for (const request of [
      { type: 'join', callId, rtpCapabilities: {} },
      { type: 'join', callId, userId: 'x', rtpCapabilities: 'caps' },
      { type: 'createTransport', callId, participantId: 'p', direction: 'sideways' },
      { type: 'produce', callId, participantId: 'p', transportId: 't', kind: 'video', rtpParameters: {} },
      { type: 'connectTransport', callId, participantId: 'p', transportId: 't' },
    ]) {
      const answer = await c.answer(c.request(request));
      expect(answer, JSON.stringify(request)).toMatchObject({ status: 400, error: { innerError: expect.objectContaining({ code: 'invalidRequest' }) } });
    }
    const proto = await client('proto');
    const badJson = ClientMessage.encode(ClientMessage.fromObject({ requestId: 'j1', join: { callId, userId: 'x', rtpCapabilitiesJson: '{not json' } })).finish();
    proto.ws.send(badJson);
    expect((await proto.answer('j1')).error).toMatchObject({ status: 400, innerCode: 'invalidRequest' });
    const caps = JSON.parse((await proto.answer(proto.request({ type: 'getRouterRtpCapabilities', callId }))).response.resultJson).rtpCapabilities;
    expect(caps.codecs[0]).toMatchObject({ mimeType: 'audio/opus' });
    const join = await proto.answer(proto.request({ type: 'join', callId, userId: 'proto-user', rtpCapabilitiesJson: JSON.stringify(caps) }));
    expect(JSON.parse(join.response.resultJson)).toMatchObject({ participantId: expect.any(String) });
  });

  it('answers garbled signaling frames with errors and closes on an oversized one', async () => {
    const c = await client();
    c.ws.send('\u0000\u0001{"type":"join"');
    await c.answer('never-matches', 200).catch(() => undefined);
    expect(c.messages.at(-1)).toMatchObject({ type: 'error', status: 400, error: { innerError: expect.objectContaining({ code: 'badFrame' }) } });
    // rtpCapabilities the size of a novel: over ws.maxFrameBytes, the connection closes with 1009.
    c.ws.send(JSON.stringify({ type: 'join', requestId: 'big', callId, userId: 'big', rtpCapabilities: { pad: 'x'.repeat(70_000) } }));
    await c.closed();
    expect(c.closeCode).toBe(1009);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
  });
});
