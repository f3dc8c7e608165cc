import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, useGateway } from '../helpers/gateway.js';
import { rawHttp } from '../helpers/rawHttp.js';
import { createGroupCall, joinRtp } from '../helpers/rtpCall.js';

/** Every bad request gets Graph's error shape with the right status, and nothing breaks. */
describe('Graph HTTP API error handling (real gateway)', () => {
  const fixture = useGateway({ MUTEGATE_HTTP_BODY_LIMIT_BYTES: '4096' });
  let callId: string;
  let participantId: string;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    callId = await createGroupCall(fixture.api);
    const p = await joinRtp(fixture.api, callId);
    closers.push(() => p.peer.close());
    participantId = p.id;
  });
  afterAll(async () => {
    for (const close of closers) close();
  });

  const muteUrl = () => `/communications/calls/${callId}/participants/${participantId}/mute`;

  function expectGraphError(res: { status: number; headers: Headers | Record<string, string>; body: any }, status: number, code: string, innerCode?: string) {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    // The reply's request-id header names the same request as the body (framework errors too).
    const requestId = res.headers instanceof Headers ? res.headers.get('request-id') : res.headers['request-id'];
    expect(requestId, 'request-id header').toBe(res.body?.error?.innerError?.['request-id']);
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
    const res = await fixture.api.post(muteUrl(), { clientContext: 'x'.repeat(257) });
    expectGraphError(res, 400, 'badRequest', 'invalidRequestBody');
    expect(res.body.error.message).toContain('clientContext');
    // Exactly 256 is fine.
    expect((await fixture.api.post(muteUrl(), { clientContext: 'y'.repeat(256) })).status).toBe(200);
  });

  it('rejects a clientContext of the wrong type instead of coercing it', async () => {
    for (const clientContext of [42, true, { a: 1 }, ['x']]) {
      const res = await fixture.api.post(muteUrl(), { clientContext });
      expectGraphError(res, 400, 'badRequest', 'invalidRequestBody');
    }
  });

  it('rejects malformed JSON', async () => {
    const res = await fixture.api.post(muteUrl(), '{"clientContext": "abc"');
    expectGraphError(res, 400, 'badRequest');
    const res2 = await fixture.api.post('/communications/calls', 'not json at all');
    expectGraphError(res2, 400, 'badRequest');
  });

  it('rejects a body that is not JSON', async () => {
    const res = await fixture.api.post(muteUrl(), 'clientContext=abc', { headers: { 'content-type': 'text/plain' } });
    expectGraphError(res, 415, 'unsupportedMediaType');
  });

  it('limits the body size', async () => {
    const res = await fixture.api.post('/communications/calls', { subject: 's'.repeat(1000), padding: 'p'.repeat(5000) });
    expectGraphError(res, 413, 'requestEntityTooLarge');
  });

  it('answers 404 for unknown calls, participants, operations and routes', async () => {
    const unknown = randomUUID();
    expectGraphError(await fixture.api.get(`/communications/calls/${unknown}`), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await fixture.api.delete(`/communications/calls/${unknown}`), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await fixture.api.post(`/communications/calls/${unknown}/participants/${participantId}/mute`, {}), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await fixture.api.post(`/communications/calls/${unknown}/mute`, {}), 404, 'itemNotFound', 'callNotFound');
    expectGraphError(await fixture.api.post(`/communications/calls/${callId}/participants/${unknown}/mute`, {}), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await fixture.api.post(`/communications/calls/${callId}/participants/${unknown}/unmute`, {}), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await fixture.api.get(`/communications/calls/${callId}/participants/${unknown}`), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await fixture.api.delete(`/communications/calls/${callId}/participants/${unknown}`), 404, 'itemNotFound', 'participantNotFound');
    expectGraphError(await fixture.api.get(`/communications/calls/${callId}/operations/${unknown}`), 404, 'itemNotFound', 'operationNotFound');
    expectGraphError(await fixture.api.get('/communications/nothing-here'), 404, 'itemNotFound', 'routeNotFound');
    // A group call created without source.identity has no application participant to mute.
    expectGraphError(await fixture.api.post(`/communications/calls/${callId}/mute`, {}), 404, 'itemNotFound', 'participantNotFound');
  });

  it('refuses participant mute in a peer-to-peer call (Graph: group calls only)', async () => {
    const p2p = await fixture.api.post('/communications/calls', {
      source: { identity: { application: { id: 'app-1' } } },
      targets: [{ identity: { user: { id: 'bob' } } }],
      media: { kind: 'rtp', payloadType: 100, ssrc: 777, receive: { ip: '127.0.0.1', port: 9999 } },
    });
    expect(p2p.status).toBe(201);
    expect(p2p.body.callType).toBe('peerToPeer');
    const p = await joinRtp(fixture.api, p2p.body.id);
    closers.push(() => p.peer.close());
    const res = await fixture.api.post(`/communications/calls/${p2p.body.id}/participants/${p.id}/mute`, {});
    expectGraphError(res, 400, 'badRequest', 'groupCallsOnly');
    expect((await fixture.api.get(`/communications/calls/${p2p.body.id}/participants/${p.id}`)).body.isMuted).toBe(false);
    // The application may still mute itself in a peer-to-peer call.
    const self = await fixture.api.post(`/communications/calls/${p2p.body.id}/mute`, {});
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
    for (const body of cases) expectGraphError(await fixture.api.post(url, body), 400, 'badRequest', 'invalidRequestBody');
    expectGraphError(
      await fixture.api.post(url, { info: { identity: {} }, media: { kind: 'rtp', payloadType: 100, ssrc: 1, receive: { ip: '127.0.0.1', port: 9999 } } }),
      400,
      'badRequest',
      'invalidIdentity',
    );
    expectGraphError(
      await fixture.api.post(url, { info: { identity: { user: { id: 'a' }, guest: { id: 'b' } } }, media: { kind: 'rtp', payloadType: 100, ssrc: 1, receive: { ip: '127.0.0.1', port: 9999 } } }),
      400,
      'badRequest',
      'invalidIdentity',
    );
  });

  it('validates call creation', async () => {
    expectGraphError(await fixture.api.post('/communications/calls', { callbackUri: 'ftp://example.test/cb' }), 400, 'badRequest');
    expectGraphError(await fixture.api.post('/communications/calls', { subject: 5 }), 400, 'badRequest');
    expectGraphError(
      await fixture.api.post('/communications/calls', { media: { kind: 'rtp', payloadType: 100, ssrc: 9, receive: { ip: '127.0.0.1', port: 9999 } } }),
      400,
      'badRequest',
      'sourceIdentityRequired',
    );
  });

  it('echoes client-request-id and sets request-id on every reply', async () => {
    const res = await fixture.api.request('GET', `/communications/calls/${randomUUID()}`, undefined, { headers: { 'client-request-id': 'abc-123' } });
    expect(res.headers.get('client-request-id')).toBe('abc-123');
    expect(res.headers.get('request-id')).toBe(res.body.error.innerError['request-id']);
    expect(res.body.error.innerError['client-request-id']).toBe('abc-123');
  });

  it('answers what the router refuses (bad percent-encoding 400, overlong path segment 414) in Graph shape with request-id', async () => {
    const badUrl = await fixture.api.request('GET', '/communications/calls/%E0%A4%A', undefined, { headers: { 'client-request-id': 'bad-url-1' } });
    expectGraphError(badUrl, 400, 'badRequest', 'FST_ERR_BAD_URL');
    expect(badUrl.headers.get('client-request-id')).toBe('bad-url-1');
    expect(badUrl.body.error.innerError['client-request-id']).toBe('bad-url-1');

    const long = await fixture.api.request('POST', `/communications/calls/${'a'.repeat(101)}/participants/${participantId}/mute`, undefined, {
      headers: { 'client-request-id': 'long-1' },
    });
    expectGraphError(long, 414, 'requestUriTooLong', 'FST_ERR_MAX_PARAM_LENGTH');
    expect(long.headers.get('client-request-id')).toBe('long-1');
    expect(long.body.error.message).not.toContain('aaaaaaaaaa'); // says what is wrong, does not echo the path
    // Without a token the router still answers first: nothing about the call is learned either way.
    expectGraphError(await apiClient(fixture.gateway.url, null).get(`/communications/calls/${'a'.repeat(101)}`), 414, 'requestUriTooLong');
  });

  it("answers what Node's HTTP parser refuses (431 header fields too large, 400 not HTTP) in Graph shape with a fresh request-id", async () => {
    const huge = await rawHttp(fixture.gateway.url, `GET /communications/calls HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`);
    expectGraphError(huge, 431, 'requestHeaderFieldsTooLarge', 'requestHeaderFieldsTooLarge');
    expect(huge.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(huge.headers['content-type']).toContain('application/json');
    expect(huge.headers.connection).toBe('close');

    const garbage = await rawHttp(fixture.gateway.url, 'HELLO THERE\r\n\r\n');
    expectGraphError(garbage, 400, 'badRequest', 'malformedRequest');
    const again = await rawHttp(fixture.gateway.url, 'HELLO THERE\r\n\r\n');
    expect(again.headers['request-id']).not.toBe(garbage.headers['request-id']);
  });

  it('accepts a bodiless mute (no clientContext) and still works after all the bad requests', async () => {
    const res = await fixture.api.post(muteUrl());
    expect(res.status).toBe(200);
    expect(res.body.clientContext).toBeNull();
    expect((await fixture.api.get('/healthz')).body).toMatchObject({ status: 'ok' });
  });
});
