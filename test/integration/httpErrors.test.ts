import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { apiClient, startTestGateway } from '../helpers/gateway.js';
import { createGroupCall, joinRtp } from '../helpers/rtpCall.js';

/** Every bad request gets Graph's error shape with the right status, and nothing breaks. */
describe('Graph HTTP API error handling (real gateway)', () => {
  let gateway: Gateway;
  let api: ReturnType<typeof apiClient>;
  let callId: string;
  let participantId: string;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway({ MUTEGATE_HTTP_BODY_LIMIT_BYTES: '4096' });
    api = apiClient(gateway.url);
    callId = await createGroupCall(api);
    const p = await joinRtp(api, callId);
    closers.push(() => p.peer.close());
    participantId = p.id;
  });
  afterAll(async () => {
    for (const close of closers) close();
    await gateway?.close();
  });

  const muteUrl = () => `/communications/calls/${callId}/participants/${participantId}/mute`;

  function expectGraphError(res: { status: number; body: any }, status: number, code: string, innerCode?: string) {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.body).toEqual({
      error: {
        code,
        message: expect.any(String),
        innerError: expect.objectContaining({
          'request-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
          date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
          ...(innerCode ? { code: innerCode } : {}),
        }),
      },
    });
  }

  it('rejects a clientContext over 256 characters', async () => {
    const res = await api.post(muteUrl(), { clientContext: 'x'.repeat(257) });
    expectGraphError(res, 400, 'badRequest', 'invalidRequestBody');
    expect(res.body.error.message).toContain('clientContext');
    // Exactly 256 is fine.
    expect((await api.post(muteUrl(), { clientContext: 'y'.repeat(256) })).status).toBe(200);
  });

  it('rejects a clientContext of the wrong type instead of coercing it', async () => {
    for (const clientContext of [42, true, { a: 1 }, ['x']]) {
      const res = await api.post(muteUrl(), { clientContext });
      expectGraphError(res, 400, 'badRequest', 'invalidRequestBody');
    }
  });

  it('rejects malformed JSON', async () => {
    const res = await api.post(muteUrl(), '{"clientContext": "abc"');
    expectGraphError(res, 400, 'badRequest');
    const res2 = await api.post('/communications/calls', 'not json at all');
    expectGraphError(res2, 400, 'badRequest');
  });

  it('rejects a body that is not JSON', async () => {
    const res = await api.post(muteUrl(), 'clientContext=abc', { headers: { 'content-type': 'text/plain' } });
    expectGraphError(res, 415, 'unsupportedMediaType');
  });

  it('limits the body size', async () => {
    const res = await api.post('/communications/calls', { subject: 's'.repeat(1000), padding: 'p'.repeat(5000) });
    expectGraphError(res, 413, 'requestEntityTooLarge');
  });

  it('answers 404 for unknown calls, participants, operations and routes', async () => {
    const unknown = randomUUID();
    expectGraphError(await api.get(`/communications/calls/${unknown}`), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await api.delete(`/communications/calls/${unknown}`), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await api.post(`/communications/calls/${unknown}/participants/${participantId}/mute`, {}), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await api.post(`/communications/calls/${unknown}/mute`, {}), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await api.post(`/communications/calls/${callId}/participants/${unknown}/mute`, {}), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await api.post(`/communications/calls/${callId}/participants/${unknown}/unmute`, {}), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await api.get(`/communications/calls/${callId}/participants/${unknown}`), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await api.delete(`/communications/calls/${callId}/participants/${unknown}`), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await api.get(`/communications/calls/${callId}/operations/${unknown}`), 404, 'itemNotFound', 'operationNotFound');
    expectGraphError(await api.get('/communications/nothing-here'), 404, 'itemNotFound', 'routeNotFound');
    // A group call created without source.identity has no application participant to mute.
    expectGraphError(await api.post(`/communications/calls/${callId}/mute`, {}), 404, 'itemNotFound', 'participantNotFound');
  });

  it('refuses participant mute in a peer-to-peer call (Graph: group calls only)', async () => {
    const p2p = await api.post('/communications/calls', {
      source: { identity: { application: { id: 'app-1' } } },
      targets: [{ identity: { user: { id: 'bob' } } }],
      media: { kind: 'rtp', payloadType: 100, ssrc: 777 },
    });
    expect(p2p.status).toBe(201);
    expect(p2p.body.callType).toBe('peerToPeer');
    const p = await joinRtp(api, p2p.body.id);
    closers.push(() => p.peer.close());
    const res = await api.post(`/communications/calls/${p2p.body.id}/participants/${p.id}/mute`, {});
    expectGraphError(res, 400, 'badRequest', 'groupCallsOnly');
    expect((await api.get(`/communications/calls/${p2p.body.id}/participants/${p.id}`)).body.isMuted).toBe(false);
    // The application may still mute itself in a peer-to-peer call.
    const self = await api.post(`/communications/calls/${p2p.body.id}/mute`, {});
    expect(self.status).toBe(200);
    expect(self.body.participantId).toBe(p2p.body.myParticipantId);
  });

  it('validates joins: media description, payload type, SSRC, receive address and identity', async () => {
    const url = `/communications/calls/${callId}/participants`;
    const identity = { user: { id: 'v' } };
    const cases: unknown[] = [
      {},
      { info: { identity } },
      { info: { identity }, media: { kind: 'webrtc', payloadType: 100, ssrc: 1 } },
      { info: { identity }, media: { kind: 'rtp', payloadType: 0, ssrc: 1 } },
      { info: { identity }, media: { kind: 'rtp', payloadType: 128, ssrc: 1 } },
      { info: { identity }, media: { kind: 'rtp', payloadType: 100, ssrc: 0 } },
      { info: { identity }, media: { kind: 'rtp', payloadType: 100, ssrc: 4294967296 } },
      { info: { identity }, media: { kind: 'rtp', payloadType: 100, ssrc: '1' } },
      { info: { identity }, media: { kind: 'rtp', payloadType: 100, ssrc: 1, receive: { ip: 'localhost', port: 5 } } },
      { info: { identity }, media: { kind: 'rtp', payloadType: 100, ssrc: 1, receive: { ip: '127.0.0.1', port: 70000 } } },
      { info: { identity: { user: { displayName: 'no id' } } }, media: { kind: 'rtp', payloadType: 100, ssrc: 1 } },
    ];
    for (const body of cases) expectGraphError(await api.post(url, body), 400, 'badRequest', 'invalidRequestBody');
    expectGraphError(
      await api.post(url, { info: { identity: {} }, media: { kind: 'rtp', payloadType: 100, ssrc: 1 } }),
      400,
      'badRequest',
      'invalidIdentity',
    );
    expectGraphError(
      await api.post(url, { info: { identity: { user: { id: 'a' }, guest: { id: 'b' } } }, media: { kind: 'rtp', payloadType: 100, ssrc: 1 } }),
      400,
      'badRequest',
      'invalidIdentity',
    );
  });

  it('validates call creation', async () => {
    expectGraphError(await api.post('/communications/calls', { callbackUri: 'ftp://example.test/cb' }), 400, 'badRequest');
    expectGraphError(await api.post('/communications/calls', { subject: 5 }), 400, 'badRequest');
    expectGraphError(
      await api.post('/communications/calls', { media: { kind: 'rtp', payloadType: 100, ssrc: 9 } }),
      400,
      'badRequest',
      'sourceIdentityRequired',
    );
  });

  it('echoes client-request-id and sets request-id on every reply', async () => {
    const res = await api.request('GET', `/communications/calls/${randomUUID()}`, undefined, { headers: { 'client-request-id': 'abc-123' } });
    expect(res.headers.get('client-request-id')).toBe('abc-123');
    expect(res.headers.get('request-id')).toBe(res.body.error.innerError['request-id']);
    expect(res.body.error.innerError['client-request-id']).toBe('abc-123');
  });

  it('accepts a bodiless mute (no clientContext) and still works after all the bad requests', async () => {
    const res = await api.post(muteUrl());
    expect(res.status).toBe(200);
    expect(res.body.clientContext).toBeNull();
    expect((await api.get('/healthz')).body).toMatchObject({ status: 'ok' });
  });
});
