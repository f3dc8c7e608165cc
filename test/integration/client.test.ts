import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MutegateError, MutegateHttp, MutegateSocket, type Roster } from '../../src/client/index.js';
import { protoEncoding } from '../../src/client/proto.js';
import { apiClient, sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { NodeWebSocket } from '../helpers/nodeWebSocket.js';
import { joinRtp, receivedSince, type RtpParticipant } from '../helpers/rtpCall.js';
import { appToken, tokenFor } from '../helpers/tokens.js';

/**
 * The typed client (src/client) against a real gateway, real worker and real RTP: what an
 * integrator gets from it over HTTP and over the WebSocket in both encodings.
 */
describe('typed client (src/client)', () => {
  const fixture = useGateway();
  let http: MutegateHttp;
  let callId: string;
  let a: RtpParticipant;
  let b: RtpParticipant;

  beforeAll(async () => {
    http = new MutegateHttp(fixture.gateway.url, { token: await appToken() });
    const created = await http.createCall({ subject: 'typed client' });
    expect(created.status).toBe(201);
    expect(created.location).toBe(`/communications/calls/${created.body.id}`);
    callId = created.body.id as string;
    a = await joinRtp(apiClient(fixture.gateway.url), callId, { userId: 'client-a' });
    b = await joinRtp(apiClient(fixture.gateway.url), callId, { userId: 'client-b' });
  });
  afterAll(async () => {
    a?.peer.close();
    b?.peer.close();
  });

  it('HTTP: a mute resolves once the worker confirmed it (nothing of the participant reaches anyone after it), refusals are MutegateErrors', async () => {
    a.startStreaming();
    await waitFor(() => b.peer.from(a.peer.senderId).length > 10, 3000, 'A heard at B');
    const muted = await http.mute(callId, a.id, 'client test');
    const sentAfter = a.peer.nextCounter;
    expect(muted.body).toMatchObject({ status: 'completed', clientContext: 'client test' });
    expect(muted.location).toBe(`/communications/calls/${callId}/operations/${muted.body.id}`);
    await sleep(300);
    expect(receivedSince(b.peer, a.peer, sentAfter)).toBe(0);
    expect((await http.getParticipant(callId, a.id)).body.isMuted).toBe(true);
    await http.unmute(callId, a.id);
    a.peer.stop();

    const refused = await http.mute(callId, 'no-such-participant').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(MutegateError);
    expect(refused).toMatchObject({ status: 404, code: 'itemNotFound' });
  });

  it('HTTP: a new send stream (updateParticipant) of a muted participant is paused before the reply; a bad one is a MutegateError 400', async () => {
    await http.mute(callId, a.id);
    const newSsrc = a.ssrc + 7000;
    const patched = await http.updateParticipant(callId, a.id, { media: { payloadType: 100, ssrc: newSsrc } });
    expect(patched.body).toMatchObject({ id: a.id, isMuted: true, media: { ssrc: newSsrc } });
    const sentFrom = a.peer.nextCounter;
    a.peer.start({ to: a.send, payloadType: 100, ssrc: newSsrc, intervalMs: 20 });
    await sleep(400);
    expect(receivedSince(b.peer, a.peer, sentFrom)).toBe(0);

    const refused = await http.updateParticipant(callId, a.id, { media: { payloadType: 200, ssrc: newSsrc } }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(MutegateError);
    expect(refused).toMatchObject({ status: 400, code: 'badRequest', innerCode: 'invalidRequestBody' });

    const unmutedAt = a.peer.nextCounter;
    await http.unmute(callId, a.id);
    await waitFor(() => receivedSince(b.peer, a.peer, unmutedAt) >= 5, 3000, 'the new stream forwarded after the unmute');
    a.peer.stop();
  });

  for (const encoding of ['json', 'proto'] as const) {
    it(`WebSocket (${encoding}): subscribe gives the roster and keeps it in sequence; mute and refusals as over HTTP`, async () => {
      const socket = await MutegateSocket.connect(fixture.gateway.url, {
        token: await appToken(),
        WebSocket: NodeWebSocket,
        ...(encoding === 'proto' ? { encoding: protoEncoding } : {}),
      });
      try {
        const roster: Roster = await socket.subscribe(callId);
        expect([...roster.participants.keys()].sort()).toEqual([a.id, b.id].sort());
        expect(roster.participants.get(a.id)).toMatchObject({ isMuted: false, identity: { kind: 'user', id: 'client-a' } });
        const before = roster.sequence;

        const operation = await socket.mute(callId, b.id, `ws ${encoding}`);
        expect(operation).toMatchObject({ status: 'completed' });
        // The roster follows: the delta of that mute, applied in sequence.
        await waitFor(() => roster.participants.get(b.id)?.isMuted === true, 3000, 'the mute in the roster');
        expect(roster.sequence).toBe(before + 1);
        // Both encodings say in which order the call's operations finished.
        const unmuted = await socket.unmute(callId, b.id);
        expect(unmuted.finishedSequence).toBe((operation.finishedSequence as number) + 1);
        await waitFor(() => roster.participants.get(b.id)?.isMuted === false, 3000, 'the unmute in the roster');

        const refused = await socket.mute(callId, 'no-such-participant').catch((err: unknown) => err);
        expect(refused).toBeInstanceOf(MutegateError);
        expect(refused).toMatchObject({ status: 404 });
        // A participant token may not mute someone else: 403, in the same terms.
        const participant = await MutegateSocket.connect(fixture.gateway.url, {
          token: await tokenFor({ role: 'participant', subject: 'client-a', call: callId }),
          WebSocket: NodeWebSocket,
          ...(encoding === 'proto' ? { encoding: protoEncoding } : {}),
        });
        const forbidden = await participant.mute(callId, b.id).catch((err: unknown) => err);
        participant.close();
        expect(forbidden).toMatchObject({ status: 403 });
      } finally {
        socket.close();
      }
    });
  }
});

describe('typed client: the gap rule', () => {
  it('asks for a fresh snapshot when a delta is missing, and ignores deltas until it has it', async () => {
    // A stand-in server that sends what a real one sends after a lost change (e.g. a call taken
    // over by another node, README "More than one node"): deltas 6 and then 8.
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    const asked: { type: string; requestId: string }[] = [];
    const participant = (id: string, isMuted: boolean) => ({ '@odata.type': '#microsoft.graph.participant', id, info: { identity: { user: { id } } }, isMuted });
    const notification = (extra: Record<string, unknown>, participants: unknown[]) =>
      JSON.stringify({
        '@odata.type': '#microsoft.graph.commsNotifications',
        '@mutegate.callId': 'call-1',
        ...extra,
        value: [{ changeType: 'updated', resourceUrl: '/communications/calls/call-1/participants', resourceData: participants }],
      });
    server.on('connection', (ws) => {
      ws.on('message', (data) => {
        const request = JSON.parse(String(data)) as { type: string; requestId: string };
        asked.push(request);
        if (request.type === 'subscribe') {
          ws.send(notification({ '@mutegate.kind': 'snapshot', '@mutegate.sequence': 5, '@mutegate.requestId': request.requestId }, [participant('p1', false)]));
          ws.send(notification({ '@mutegate.kind': 'delta', '@mutegate.sequence': 6, '@mutegate.change': 'joined' }, [participant('p2', false)]));
          // 7 is lost; 8 says p1 is muted, and so would 9 (ignored until the snapshot).
          ws.send(notification({ '@mutegate.kind': 'delta', '@mutegate.sequence': 8, '@mutegate.change': 'updated' }, [participant('p1', true)]));
          ws.send(notification({ '@mutegate.kind': 'delta', '@mutegate.sequence': 9, '@mutegate.change': 'updated' }, [participant('p2', true)]));
        }
        if (request.type === 'resync') {
          ws.send(notification({ '@mutegate.kind': 'snapshot', '@mutegate.sequence': 9, '@mutegate.requestId': request.requestId }, [participant('p1', true), participant('p3', false)]));
        }
      });
    });
    const socket = await MutegateSocket.connect(`http://127.0.0.1:${port}`, { WebSocket: NodeWebSocket });
    const gaps: [number, number][] = [];
    socket.on('gap', (_callId, expected, received) => gaps.push([expected, received]));
    try {
      const roster = await socket.subscribe('call-1');
      await waitFor(() => roster.sequence === 9 && asked.some((r) => r.type === 'resync'), 3000, 'the resync snapshot applied');
      expect(gaps).toEqual([[7, 8]]);
      // The snapshot's roster, not one assembled from deltas around a hole (p2 left meanwhile, p3 came).
      expect([...roster.participants.values()].map((p) => [p.id, p.isMuted])).toEqual([
        ['p1', true],
        ['p3', false],
      ]);
    } finally {
      socket.close();
      server.close();
    }
  });

  it('a resync refused for its rate (429 tooManyRosterReads) is asked again a second later, without waiting for another delta', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    const frame = (extra: Record<string, unknown>, isMuted: boolean) =>
      JSON.stringify({
        '@odata.type': '#microsoft.graph.commsNotifications',
        '@mutegate.callId': 'call-3',
        ...extra,
        value: [{ changeType: 'updated', resourceUrl: '/communications/calls/call-3/participants', resourceData: [{ '@odata.type': '#microsoft.graph.participant', id: 'p1', info: { identity: { user: { id: 'p1' } } }, isMuted }] }],
      });
    const resyncs: number[] = [];
    server.on('connection', (ws) => {
      ws.on('message', (data) => {
        const request = JSON.parse(String(data)) as { type: string; requestId: string };
        if (request.type === 'subscribe') {
          ws.send(frame({ '@mutegate.kind': 'snapshot', '@mutegate.sequence': 1, '@mutegate.requestId': request.requestId }, false));
          // 2 is lost, and the call is quiet after 3: no further delta to start another attempt.
          ws.send(frame({ '@mutegate.kind': 'delta', '@mutegate.sequence': 3, '@mutegate.change': 'updated' }, true));
        }
        if (request.type === 'resync') {
          resyncs.push(Date.now());
          if (resyncs.length === 1) {
            ws.send(JSON.stringify({ type: 'error', requestId: request.requestId, status: 429, error: { code: 'tooManyRequests', message: 'too many roster reads', innerError: { code: 'tooManyRosterReads' } } }));
          } else {
            ws.send(frame({ '@mutegate.kind': 'snapshot', '@mutegate.sequence': 3, '@mutegate.requestId': request.requestId }, true));
          }
        }
      });
    });
    const socket = await MutegateSocket.connect(`http://127.0.0.1:${port}`, { WebSocket: NodeWebSocket });
    try {
      const roster = await socket.subscribe('call-3');
      await waitFor(() => roster.sequence === 3, 4000, 'the second resync applied');
      expect(resyncs).toHaveLength(2);
      expect(resyncs[1]! - resyncs[0]!).toBeGreaterThanOrEqual(900);
      expect(roster.participants.get('p1')?.isMuted).toBe(true);
    } finally {
      socket.close();
      server.close();
    }
  });

  it('a call that ended in the missing changes: the resync answers 404 and the roster ends (event with callEnded)', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    const frame = (extra: Record<string, unknown>) =>
      JSON.stringify({
        '@odata.type': '#microsoft.graph.commsNotifications',
        '@mutegate.callId': 'call-2',
        ...extra,
        value: [{ changeType: 'updated', resourceUrl: '/communications/calls/call-2/participants', resourceData: [{ '@odata.type': '#microsoft.graph.participant', id: 'p1', info: { identity: { user: { id: 'p1' } } }, isMuted: false }] }],
      });
    server.on('connection', (ws) => {
      ws.on('message', (data) => {
        const request = JSON.parse(String(data)) as { type: string; requestId: string };
        if (request.type === 'subscribe') {
          ws.send(frame({ '@mutegate.kind': 'snapshot', '@mutegate.sequence': 1, '@mutegate.requestId': request.requestId }));
          ws.send(frame({ '@mutegate.kind': 'delta', '@mutegate.sequence': 3, '@mutegate.change': 'updated' }));
        }
        if (request.type === 'resync') {
          ws.send(JSON.stringify({ type: 'error', requestId: request.requestId, status: 404, error: { code: 'itemNotFound', message: 'call call-2 not found', innerError: { code: 'callNotFound' } } }));
        }
      });
    });
    const socket = await MutegateSocket.connect(`http://127.0.0.1:${port}`, { WebSocket: NodeWebSocket });
    const events: string[] = [];
    socket.on('roster', (_roster, received) => events.push(`${received.type}${received.type === 'delta' ? `:${received.change}` : ''}`));
    try {
      const roster = await socket.subscribe('call-2');
      await waitFor(() => roster.ended, 3000, 'the roster marked ended');
      expect(roster.participants.size).toBe(0);
      expect(events.at(-1)).toBe('delta:callEnded');
    } finally {
      socket.close();
      server.close();
    }
  });

  it('a request on a closed connection fails at once (not at its timeout)', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const port = (server.address() as { port: number }).port;
    const socket = await MutegateSocket.connect(`http://127.0.0.1:${port}`, { WebSocket: NodeWebSocket, requestTimeoutMs: 60_000 });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    for (const ws of server.clients) ws.terminate();
    await closed;
    const started = Date.now();
    await expect(socket.mute('call-3', 'p1')).rejects.toThrow(/connection is closed/);
    expect(Date.now() - started).toBeLessThan(1000);
    server.close();
  });
});
