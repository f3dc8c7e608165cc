import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientMessage, ServerMessage } from '../../src/proto/contract.js';
import { CometdAgent } from '../helpers/cometdAgent.js';
import { appToken, userToken } from '../helpers/tokens.js';
import { sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../helpers/rtpCall.js';

/** Bad frames and bad requests on every adapter: a clear 4xx or error message, the process alive, state unchanged. */
describe('bad input on every adapter (real gateway)', () => {
  const fixture = useGateway({ MUTEGATE_WS_MAX_FRAME_BYTES: '4096', MUTEGATE_HTTP_BODY_LIMIT_BYTES: '8192' });
  let callId: string;
  let otherCallId: string;
  let alice: RtpParticipant;
  let bob: RtpParticipant;
  let stranger: RtpParticipant;
  const clients: RosterClient[] = [];

  beforeAll(async () => {
    callId = await createGroupCall(fixture.api);
    otherCallId = await createGroupCall(fixture.api);
    alice = await joinRtp(fixture.api, callId, { userId: 'alice' });
    bob = await joinRtp(fixture.api, callId, { userId: 'bob' });
    stranger = await joinRtp(fixture.api, otherCallId, { userId: 'stranger' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const p of [alice, bob, stranger]) p?.peer.close();
  });

  /** Everyone's state as the API reports it; compared before and after each bad request. */
  async function state() {
    const calls = await Promise.all([callId, otherCallId].map((id) => fixture.api.get(`/communications/calls/${id}/participants`)));
    return calls.map((c) => c.body.value.map((p: { id: string; isMuted: boolean }) => `${p.id}:${p.isMuted}`).sort());
  }

  async function connect(encoding: 'json' | 'proto') {
    const c = await RosterClient.connect(fixture.gateway.url, encoding);
    clients.push(c);
    return c;
  }

  it('answers the HTTP bad-input table with 4xx and leaves state unchanged', async () => {
    const before = await state();
    const mute = (pid: string, cid = callId) => `/communications/calls/${cid}/participants/${pid}/mute`;
    const cases: { name: string; send: () => Promise<{ status: number; body: any }>; status: number }[] = [
      { name: 'malformed JSON', send: () => fixture.api.post(mute(alice.id), '{"clientContext":'), status: 400 },
      { name: 'JSON array body', send: () => fixture.api.post(mute(alice.id), '[1,2]'), status: 400 },
      { name: 'clientContext number', send: () => fixture.api.post(mute(alice.id), { clientContext: 7 }), status: 400 },
      { name: 'clientContext null', send: () => fixture.api.post(mute(alice.id), { clientContext: null }), status: 400 },
      { name: '257-char clientContext', send: () => fixture.api.post(mute(alice.id), { clientContext: 'a'.repeat(257) }), status: 400 },
      { name: '257 emoji clientContext', send: () => fixture.api.post(mute(alice.id), { clientContext: '😀'.repeat(257) }), status: 400 },
      { name: 'huge body', send: () => fixture.api.post(mute(alice.id), { clientContext: 'x', pad: 'y'.repeat(20_000) }), status: 413 },
      { name: 'text body', send: () => fixture.api.post(mute(alice.id), 'mute please', { headers: { 'content-type': 'text/plain' } }), status: 415 },
      { name: 'unknown participant', send: () => fixture.api.post(mute(randomUUID())), status: 404 },
      { name: 'unknown call', send: () => fixture.api.post(mute(alice.id, randomUUID())), status: 404 },
      { name: 'participant forged from another call', send: () => fixture.api.post(mute(stranger.id, callId)), status: 404 },
      { name: 'participant of this call on the other call', send: () => fixture.api.post(mute(alice.id, otherCallId)), status: 404 },
      { name: 'NUL and unicode in the id', send: () => fixture.api.post(mute(encodeURIComponent('\u0000é😀'))), status: 404 },
      { name: 'overlong id', send: () => fixture.api.post(mute('x'.repeat(2000))), status: 414 },
      { name: 'join with ssrc as string', send: () => fixture.api.post(`/communications/calls/${callId}/participants`, { info: { identity: { user: { id: 'z' } } }, media: { kind: 'rtp', payloadType: 100, ssrc: '5' } }), status: 400 },
      { name: 'join with unicode-only identity but no media', send: () => fixture.api.post(`/communications/calls/${callId}/participants`, { info: { identity: { user: { id: '👩‍💻' } } } }), status: 400 },
      { name: 'PATCH with payload type out of range', send: () => fixture.api.patch(`/communications/calls/${callId}/participants/${alice.id}`, { media: { payloadType: 200, ssrc: 9 } }), status: 400 },
      // A media object is a fixed set of settings (README "HTTP API"): an unknown key there is refused, not ignored.
      { name: 'join with an unknown key in media', send: () => fixture.api.post(`/communications/calls/${callId}/participants`, { info: { identity: { user: { id: 'z' } } }, media: { kind: 'rtp', payloadType: 100, ssrc: 5, receive: { ip: '127.0.0.1', port: 5004 }, '@odata.type': '#x' } }), status: 400 },
      { name: 'join with an unknown key in media.receive', send: () => fixture.api.post(`/communications/calls/${callId}/participants`, { info: { identity: { user: { id: 'z' } } }, media: { kind: 'rtp', payloadType: 100, ssrc: 5, receive: { ip: '127.0.0.1', port: 5004, ttl: 1 } } }), status: 400 },
      { name: 'PATCH of the call with @odata.type', send: () => fixture.api.patch(`/communications/calls/${callId}`, { '@odata.type': '#microsoft.graph.call', muteOnEntry: false }), status: 400 },
    ];
    for (const c of cases) {
      const res = await c.send();
      expect(res.status, `${c.name}: ${JSON.stringify(res.body)}`).toBe(c.status);
      expect(res.body.error, c.name).toMatchObject({ code: expect.any(String), message: expect.any(String), innerError: expect.objectContaining({ 'request-id': expect.any(String) }) });
    }
    expect(await state()).toEqual(before);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
  });

  it('accepts and ignores unknown properties outside the fixed settings objects (README "HTTP API")', async () => {
    const mute = await fixture.api.post(`/communications/calls/${callId}/participants/${bob.id}/mute`, { '@odata.type': '#microsoft.graph.muteParticipantOperation', clientContext: 'extra', flavour: 1 });
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    expect(mute.body).not.toHaveProperty('flavour');
    const replaced = await fixture.api.patch(`/communications/calls/${callId}/participants/${bob.id}`, { '@odata.type': '#microsoft.graph.participant', media: { payloadType: 101, ssrc: bob.ssrc, extra: true } });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${bob.id}/unmute`, {})).status).toBe(200);
  });

  it('accepts unicode edge cases that are valid (256 emoji, lone surrogate) and echoes them back exactly', async () => {
    const emoji = '😀'.repeat(256);
    const res = await fixture.api.post(`/communications/calls/${callId}/participants/${bob.id}/mute`, { clientContext: emoji });
    expect(res.status).toBe(200);
    expect(res.body.clientContext).toBe(emoji);
    const lone = await fixture.api.post(`/communications/calls/${callId}/participants/${bob.id}/unmute`, '{"clientContext":"\\ud800x"}');
    expect(lone.status).toBe(200);
    expect(lone.body.clientContext).toBe('\ud800x');
  });

  it('answers malformed WebSocket frames with errors and keeps the connection usable', async () => {
    const before = await state();
    const json = await connect('json');
    const cases: { frame: string | Buffer; innerCode: string }[] = [
      { frame: '{"type":', innerCode: 'badFrame' },
      { frame: '"just a string"', innerCode: 'unknownMessageType' },
      { frame: JSON.stringify({ type: 'dance', requestId: 'q1', callId }), innerCode: 'unknownMessageType' },
      { frame: JSON.stringify({ type: 'subscribe', requestId: 'q2', callId: 42 }), innerCode: 'invalidRequest' },
      { frame: JSON.stringify({ type: 'mute', requestId: 'q3', callId }), innerCode: 'invalidRequest' },
      { frame: JSON.stringify({ type: 'mute', requestId: 'q4', callId, participantId: alice.id, clientContext: 'c'.repeat(257) }), innerCode: 'invalidRequest' },
      { frame: JSON.stringify({ type: 'subscribe', requestId: 'q5', callId, extra: true }), innerCode: 'invalidRequest' },
      { frame: Buffer.from([1, 2, 3]), innerCode: 'wrongFrameType' },
    ];
    for (const c of cases) {
      json.ws.send(c.frame);
      await waitFor(() => json.messages.length > cases.indexOf(c), 3000, `error for ${String(c.frame)}`);
      const err = json.messages[cases.indexOf(c)];
      expect(err, String(c.frame)).toMatchObject({ type: 'error', status: 400, error: { code: 'badRequest', innerError: expect.objectContaining({ code: c.innerCode }) } });
    }
    expect(json.messages.find((m) => m.requestId === 'q4')).toBeDefined(); // the request id is echoed when readable

    // Domain errors come back in Graph shape with the request id.
    const r1 = json.request({ type: 'subscribe', callId: randomUUID() });
    expect(await json.answer(r1)).toMatchObject({ type: 'error', status: 404, error: { code: 'itemNotFound', innerError: expect.objectContaining({ code: 'callNotFound' }) } });
    const r2 = json.request({ type: 'resync', callId });
    expect(await json.answer(r2)).toMatchObject({ status: 400, error: { innerError: expect.objectContaining({ code: 'notSubscribed' }) } });
    const r3 = json.request({ type: 'mute', callId, participantId: stranger.id });
    expect(await json.answer(r3)).toMatchObject({ status: 404, error: { innerError: expect.objectContaining({ code: 'participantNotFound' }) } });

    // Still usable.
    const ok = json.request({ type: 'subscribe', callId });
    expect((await json.answer(ok))['@mutegate.kind']).toBe('snapshot');

    const proto = await connect('proto');
    const protoCases: { frame: string | Buffer; innerCode: string }[] = [
      { frame: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), innerCode: 'badFrame' },
      { frame: Buffer.from(ClientMessage.encode(ClientMessage.fromObject({ requestId: 'p1' })).finish()), innerCode: 'unknownMessageType' },
      { frame: Buffer.from(ClientMessage.encode(ClientMessage.fromObject({ requestId: 'p2', mute: { callId } })).finish()), innerCode: 'invalidRequest' },
      { frame: '{"type":"subscribe"}', innerCode: 'wrongFrameType' },
    ];
    for (const [i, c] of protoCases.entries()) {
      proto.ws.send(c.frame);
      await waitFor(() => proto.messages.length > i, 3000, `proto error ${i}`);
      expect(proto.messages[i].error, String(c.frame)).toMatchObject({ status: 400, code: 'badRequest', innerCode: c.innerCode });
    }
    const p3 = proto.request({ type: 'unmute', callId, participantId: randomUUID() });
    expect((await proto.answer(p3)).error).toMatchObject({ requestId: p3, status: 404, innerCode: 'participantNotFound' });

    expect(await state()).toEqual(before);
  });

  it('closes a connection that sends an oversized frame, with 1009', async () => {
    const json = await connect('json');
    json.ws.send(JSON.stringify({ type: 'subscribe', requestId: 'big', callId, pad: 'x'.repeat(10_000) }));
    await json.closed();
    expect(json.closeCode).toBe(1009);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
  });

  it('refuses unknown subprotocols and paths at the handshake', async () => {
    const headers = { authorization: `Bearer ${await appToken()}` };
    const refused = await new Promise<{ status: number; requestId: unknown; body: string }>((resolve) => {
      const ws = new WebSocket(fixture.gateway.url.replace('http', 'ws') + '/ws', 'mutegate.v9.xml', { headers });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: res.headers['request-id'], body }));
      });
      ws.on('error', () => undefined);
    });
    expect(refused.status).toBe(400);
    expect(refused.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'badRequest', innerError: { code: 'unsupportedSubprotocol', 'request-id': refused.requestId } });
    const notFound = await new Promise<number>((resolve) => {
      const ws = new WebSocket(fixture.gateway.url.replace('http', 'ws') + '/nowhere', 'mutegate.v1.json', { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(notFound).toBe(404);
    // No subprotocol at all means JSON.
    const plain = new WebSocket(fixture.gateway.url.replace('http', 'ws') + '/ws', { headers });
    await new Promise((resolve) => plain.once('open', resolve));
    expect(plain.protocol).toBe('');
    const got = new Promise<string>((resolve) => plain.once('message', (d) => resolve(d.toString())));
    plain.send(JSON.stringify({ type: 'subscribe', requestId: 'x', callId }));
    expect(JSON.parse(await got)['@mutegate.kind']).toBe('snapshot');
    plain.terminate();
  });

  it('speaks the encoding of the first known subprotocol the client offers, and answers that one', async () => {
    const headers = { authorization: `Bearer ${await appToken()}` };
    for (const offered of [
      ['mutegate.v1.proto', 'mutegate.v1.json'],
      ['mutegate.v1.json', 'mutegate.v1.proto'],
      ['mutegate.v9.xml', 'mutegate.v1.proto'],
    ]) {
      const ws = new WebSocket(fixture.gateway.url.replace('http', 'ws') + '/ws', offered, { headers });
      await new Promise((resolve) => ws.once('open', resolve));
      const chosen = offered.find((p) => p.startsWith('mutegate.v1.'));
      expect(ws.protocol, offered.join(',')).toBe(chosen);
      const got = new Promise<{ data: Buffer; isBinary: boolean }>((resolve) => ws.once('message', (data: Buffer, isBinary) => resolve({ data, isBinary })));
      if (chosen === 'mutegate.v1.proto') {
        ws.send(ClientMessage.encode(ClientMessage.fromObject({ requestId: 'p', subscribe: { callId } })).finish());
        const { data, isBinary } = await got;
        expect(isBinary, offered.join(',')).toBe(true);
        expect(ServerMessage.decode(data).toJSON()).toMatchObject({ snapshot: { callId, requestId: 'p' } });
      } else {
        ws.send(JSON.stringify({ type: 'subscribe', requestId: 'j', callId }));
        const { data, isBinary } = await got;
        expect(isBinary, offered.join(',')).toBe(false);
        expect(JSON.parse(data.toString())).toMatchObject({ '@mutegate.kind': 'snapshot', '@mutegate.requestId': 'j' });
      }
      ws.terminate();
    }
  });

  it('validates webhook registration', async () => {
    for (const callbackUri of ['ftp://127.0.0.1/hook', 'not a uri', 'http://', 'http:// spaces.test/', 'javascript:alert(1)', 42, `http://127.0.0.1/${'x'.repeat(3000)}`]) {
      const res = await fixture.api.post('/communications/calls', { callbackUri });
      expect(res.status, String(callbackUri)).toBe(400);
      expect(res.body.error.code).toBe('badRequest');
    }
  });

  it('answers bad Genesys requests with a non-zero statusCode and the right HTTP status', async () => {
    const before = await state();
    const tokens = { alice: `Bearer ${await userToken('alice')}`, stranger: `Bearer ${await userToken('stranger')}` };
    // No user: no Authorization header at all (the default app token is suppressed by an empty one).
    const as = (user?: 'alice' | 'stranger'): RequestInit => ({ headers: { authorization: user ? tokens[user] : '' } });
    const url = `/api/v2/me/calls/${callId}`;
    const cases: { name: string; send: () => Promise<{ status: number; body: any }>; status: number; statusCode: number }[] = [
      { name: 'no caller', send: () => fixture.api.post(url, { operationName: 'MuteCall' }, as()), status: 401, statusCode: 2 },
      { name: 'unknown operation', send: () => fixture.api.post(url, { operationName: 'HoldCall' }, as('alice')), status: 400, statusCode: 1 },
      { name: 'missing operation', send: () => fixture.api.post(url, {}, as('alice')), status: 400, statusCode: 1 },
      { name: 'operation of wrong type', send: () => fixture.api.post(url, { operationName: 7 }, as('alice')), status: 400, statusCode: 1 },
      { name: 'malformed JSON', send: () => fixture.api.post(url, '{"operationName"', as('alice')), status: 400, statusCode: 1 },
      { name: 'unknown call', send: () => fixture.api.post(`/api/v2/me/calls/${randomUUID()}`, { operationName: 'MuteCall' }, as('alice')), status: 404, statusCode: 3 },
      { name: 'caller not in the call', send: () => fixture.api.post(url, { operationName: 'MuteCall' }, as('stranger')), status: 404, statusCode: 3 },
      { name: 'unmute while not muted (not a capability)', send: () => fixture.api.post(url, { operationName: 'UnmuteCall' }, as('alice')), status: 409, statusCode: 4 },
      { name: 'GET without caller', send: () => fixture.api.request('GET', '/api/v2/me/calls', undefined, as()), status: 401, statusCode: 2 },
      { name: 'GET a call the caller is not in', send: () => fixture.api.request('GET', `/api/v2/me/calls/${otherCallId}`, undefined, as('alice')), status: 404, statusCode: 3 },
    ];
    for (const c of cases) {
      const res = await c.send();
      expect(res.status, `${c.name}: ${JSON.stringify(res.body)}`).toBe(c.status);
      expect(res.body, c.name).toEqual({ statusCode: c.statusCode, statusMessage: expect.any(String) });
    }
    expect(await state()).toEqual(before);
    // And the happy path right after: capabilities follow the state.
    const call = await fixture.api.request('GET', url, undefined, as('alice'));
    expect(call.body.data.call).toMatchObject({ mute: 'Off', capabilities: ['MuteCall', 'RaiseHand'] });
  });

  it('refuses CometD handshakes without a user and subscriptions to other channels', async () => {
    const anonymous = new CometdAgent(fixture.gateway.url, undefined);
    const handshake = await anonymous.handshake();
    expect(handshake.successful).toBe(false);
    expect(String(handshake.error)).toContain('401');
    anonymous.client.disconnect();
    const forged = new CometdAgent(fixture.gateway.url, (await userToken('alice')).slice(0, -4) + 'AAAA');
    const forgedHandshake = await forged.handshake();
    expect(forgedHandshake.successful).toBe(false);
    expect(String(forgedHandshake.error)).toMatch(/^401::the token was refused/);
    forged.client.disconnect();

    const agent = new CometdAgent(fixture.gateway.url, await userToken('alice'));
    expect((await agent.handshake()).successful).toBe(true);
    const sub = await agent.subscribe('/v2/everyone/calls');
    expect(sub.successful).toBe(false);
    expect(String(sub.error)).toContain('/v2/me/calls');
    const published = await new Promise<{ successful: boolean }>((resolve) => agent.client.publish('/v2/me/calls', { forged: true }, resolve));
    expect(published.successful).toBe(false);
    await agent.disconnect();

    // A garbage long-polling body does not hurt the server.
    const res = await fetch(`${fixture.gateway.url}/cometd`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"channel":' });
    expect(res.status).toBe(400);
    const big = await fetch(`${fixture.gateway.url}/cometd`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(200_000) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { innerError: { 'request-id': string } } }).error.innerError['request-id']).toBe(big.headers.get('request-id'));
    await sleep(50);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
  });
});
