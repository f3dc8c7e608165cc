import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { MutegateError, MutegateSocket, type WebSocketConstructor } from '../../../src/client/index.js';
import { apiClient, useGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * Every request costs the gateway a wake-up, a parse and an answer, a refused one too: a
 * participant token's WebSocket sending frames as fast as their answers came back took the
 * gateway from 12 % to 65–78 % of a core, slowing everyone's mutes, whether they were answered or
 * refused (native-bench/rosterReadCost.ts). Requests of a participant or moderator token, HTTP requests
 * and WebSocket frames alike, are held to limits.requestsPerSecond (50, a burst of 500) across its
 * connections: past it a WebSocket is closed (1008) and HTTP answers 429. The application is not.
 */
describe('hostile participants: flooding the gateway with requests', () => {
  const fixture = useGateway({});

  it('closes the flooding WebSocket past the burst, answers its HTTP requests 429, and leaves the application alone', async () => {
    const callId = await createGroupCall(fixture.api);
    const leg = await joinRtp(fixture.api, callId, { userId: 'mallory' });
    const eve = await joinRtp(fixture.api, callId, { userId: 'eve' });
    const token = tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    const flood = await RosterClient.connect(fixture.gateway.url, 'json', token);
    const app = await RosterClient.connect(fixture.gateway.url, 'json');
    try {
      const closed = new Promise<number>((resolve) => flood.ws.once('close', (code) => resolve(code)));
      // 2000 cheap frames at once (raising and lowering her hand would also be held to her own
      // rate; an unsubscribe of nothing is answered at once).
      const ids = Array.from({ length: 2000 }, () => flood.request({ type: 'unsubscribe', callId }));
      expect(await closed).toBe(1008);
      const answered = ids.filter((id) => flood.answersTo(id).length > 0).length;
      expect(answered).toBeGreaterThanOrEqual(400);
      expect(answered).toBeLessThanOrEqual(520); // the burst of 500, and what 50/s added meanwhile

      // Over HTTP (another participant, her own allowance): 600 requests at once, the burst answered, the rest 429 in Graph's shape.
      const asEve = apiClient(fixture.gateway.url, tokenFor({ role: 'participant', subject: 'eve', call: callId }));
      const reads = await Promise.all(Array.from({ length: 600 }, () => asEve.get(`/communications/calls/${callId}`)));
      const ok = reads.filter((r) => r.status === 200).length;
      const limited = reads.filter((r) => r.status === 429 && (r.body as { error: { innerError: { code: string } } }).error.innerError.code === 'tooManyRequests').length;
      expect(ok + limited, JSON.stringify(reads.find((r) => r.status !== 200 && r.status !== 429)?.body)).toBe(600);
      expect(ok).toBeGreaterThanOrEqual(400);
      expect(ok).toBeLessThanOrEqual(560);
      // Graph's throttling answer: when to come back.
      expect(reads.find((r) => r.status === 429)?.headers.get('retry-after')).toBe('1');

      // The application's connection takes 2000 frames at once and answers them all.
      const appIds = Array.from({ length: 2000 }, () => app.request({ type: 'unsubscribe', callId }));
      await waitFor(() => appIds.every((id) => app.answersTo(id).length > 0), 10_000, 'every application frame answered');
      expect(app.ws.readyState).toBe(app.ws.OPEN);
      expect((await fixture.api.get(`/communications/calls/${callId}`)).status).toBe(200);
    } finally {
      flood.close();
      app.close();
      leg.peer.close();
      eve.peer.close();
    }
  }, 30_000);

  it("answers a CometD session's Bayeux messages past the burst with 429 errors", async () => {
    const callId = await createGroupCall(fixture.api);
    const leg = await joinRtp(fixture.api, callId, { userId: 'agent-m' });
    const post = async (messages: unknown[]) => {
      const res = await fetch(`${fixture.gateway.url}/cometd`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(messages) });
      return (await res.json()) as { channel: string; successful?: boolean; error?: string; clientId?: string }[];
    };
    try {
      const token = await tokenFor({ role: 'participant', subject: 'agent-m', call: callId });
      const [hello] = await post([
        { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], ext: { authorization: `Bearer ${token}` } },
      ]);
      expect(hello?.successful, JSON.stringify(hello)).toBe(true);
      const clientId = hello!.clientId!;
      // 700 subscriptions in batches of 100 (each message counts): the burst of 500 (less the handshake) pass.
      const replies: Awaited<ReturnType<typeof post>> = [];
      for (let batch = 0; batch < 7; batch++) {
        replies.push(...(await post(Array.from({ length: 100 }, (_, i) => ({ channel: '/meta/subscribe', clientId, subscription: '/v2/me/calls', id: `${batch}-${i}` })))));
      }
      const passed = replies.filter((r) => r.successful).length;
      const limited = replies.filter((r) => r.error?.startsWith('429::')).length;
      expect(passed + limited, JSON.stringify(replies.find((r) => !r.successful && !r.error?.startsWith('429::')))).toBe(700);
      expect(passed).toBeGreaterThanOrEqual(450);
      expect(passed).toBeLessThanOrEqual(520);
    } finally {
      leg.peer.close();
    }
  }, 30_000);

  it('the typed client rejects what was pending with a MutegateError 429 tooManyRequests, not a bare network error', async () => {
    const callId = await createGroupCall(fixture.api);
    const leg = await joinRtp(fixture.api, callId, { userId: 'mallory' });
    const socket = await MutegateSocket.connect(fixture.gateway.url, {
      token: await tokenFor({ role: 'participant', subject: 'mallory', call: callId }),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    try {
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      const outcomes = await Promise.allSettled(Array.from({ length: 1000 }, () => socket.unsubscribe(callId)));
      expect(await closed).toBe(1008);
      const rejected = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(rejected.length).toBeGreaterThan(0);
      for (const err of rejected) {
        expect(err).toBeInstanceOf(MutegateError);
        expect(err).toMatchObject({ status: 429, innerCode: 'tooManyRequests' });
      }
    } finally {
      socket.close(1000);
      leg.peer.close();
    }
  }, 30_000);
});

/**
 * What the limit must not break: a WebRTC client joining a large call resumes one consumer per
 * other participant, all at once (the page does). Those resumeConsumer frames answer offers the
 * server sent: they are not counted. Here the limit is 1 request a second (a burst of 10) and the
 * call has 30 other participants.
 */
describe('the request limit and a WebRTC client joining a large call', () => {
  const fixture = useGateway({ MUTEGATE_LIMITS_REQUESTS_PER_SECOND: '1' });

  it('answers a resumeConsumer for every offer it sent without counting them; its own frames still count', async () => {
    const callId = await createGroupCall(fixture.api);
    const sources = await Promise.all(Array.from({ length: 30 }, (_, i) => joinRtp(fixture.api, callId, { userId: `source-${i}` })));
    const client = await RosterClient.connect(fixture.gateway.url, 'json', tokenFor({ role: 'participant', subject: 'webby', call: callId }));
    try {
      const answer = async (id: string) => {
        const of = () => client.frames.find((f) => (f.type === 'response' || f.type === 'error') && f.requestId === id);
        await waitFor(() => of() !== undefined, 5000, `answer to ${id}`);
        return of()!;
      };
      const caps = await answer(client.request({ type: 'getRouterRtpCapabilities', callId }));
      const rtpCapabilities = caps.type === 'response' ? caps.body.rtpCapabilities : undefined;
      const join = await answer(client.request({ type: 'join', callId, userId: 'webby', rtpCapabilities }));
      expect(join.type, JSON.stringify(join)).toBe('response');
      const participantId = join.type === 'response' ? (join.body.participantId as string) : '';
      expect((await answer(client.request({ type: 'createTransport', callId, participantId, direction: 'recv' }))).type).toBe('response');
      const offers = () => client.frames.flatMap((f) => (f.type === 'consumer' ? [f] : []));
      await waitFor(() => offers().length === 30, 5000, 'an offer per source');
      // 30 resumes at once, with 7 of the 10 requests of the burst left: all answered, still open.
      const resumed = await Promise.all(offers().map((o) => answer(client.request({ type: 'resumeConsumer', callId, participantId, consumerId: o.consumerId }))));
      expect(resumed.every((r) => r.type === 'response'), JSON.stringify(resumed.find((r) => r.type !== 'response'))).toBe(true);
      expect(client.ws.readyState).toBe(client.ws.OPEN);
      // Its own frames still count: a burst of them closes the connection.
      const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
      for (let i = 0; i < 20; i++) client.request({ type: 'unsubscribe', callId });
      expect(await closed).toBe(1008);
    } finally {
      client.close();
      for (const source of sources) source.peer.close();
    }
  }, 30_000);
});
