import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../native-bench/lib/RtpPeer.js';
import { CometdAgent } from '../helpers/cometdAgent.js';
import { userToken } from '../helpers/tokens.js';
import { apiClient, sleep, startTestGateway, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince } from '../helpers/rtpCall.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';

/**
 * Every party that follows a call learns of each mute and unmute exactly once, in order, in its
 * own form: Graph commsNotifications over WebSocket JSON and webhooks, protobuf deltas, and
 * Genesys CallStateChangeMessage over CometD (the real cometd client). Real worker, real RTP.
 */
describe('roster notifications: WebSocket (JSON, protobuf), webhooks, CometD', () => {
  const fixture = useGateway({ MUTEGATE_WEBHOOKS_RETRY_DELAYS_MS: '[50,100,200]' });
  let receiver: WebhookReceiver;
  const peers: RtpPeer[] = [];
  const clients: RosterClient[] = [];
  const agents: CometdAgent[] = [];

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const p of peers.splice(0)) p.close();
    await Promise.all(agents.splice(0).map((a) => a.disconnect()));
  });
  afterAll(async () => {
    await receiver?.close();
  });

  async function subscribers(callId: string, json: number, proto: number): Promise<RosterClient[]> {
    const list: RosterClient[] = [];
    for (let i = 0; i < json + proto; i++) list.push(await RosterClient.connect(fixture.gateway.url, i < json ? 'json' : 'proto'));
    clients.push(...list);
    await Promise.all(list.map((c) => c.answer(c.request({ type: 'subscribe', callId }))));
    return list;
  }

  it('delivers exactly one update per mute and unmute to every JSON and protobuf subscriber, the webhook and the CometD agent', async () => {
    const callId = await createGroupCall(fixture.api, { callbackUri: receiver.url });
    const agentA = await joinRtp(fixture.api, callId, { userId: 'agent-a' });
    const b = await joinRtp(fixture.api, callId);
    peers.push(agentA.peer, b.peer);
    agentA.startStreaming();
    b.startStreaming();
    await waitFor(() => receivedSince(b.peer, agentA.peer, 0) >= 5, 5000, 'A → B');

    const subs = await subscribers(callId, 3, 3);
    const snapshotSeq = subs[0]!.snapshotSequence();
    expect(snapshotSeq).toBe(2); // two joins
    for (const s of subs) expect(s.snapshotSequence()).toBe(snapshotSeq);
    // The JSON snapshot is a Graph commsNotifications with the whole roster.
    const jsonSnapshot = subs[0]!.messages[0];
    expect(jsonSnapshot).toMatchObject({
      '@odata.type': '#microsoft.graph.commsNotifications',
      '@mutegate.kind': 'snapshot',
      value: [{ '@odata.type': '#microsoft.graph.commsNotification', changeType: 'updated', resourceUrl: `/communications/calls/${callId}/participants` }],
    });
    expect(jsonSnapshot.value[0].resourceData).toHaveLength(2);
    expect(subs[3]!.messages[0].snapshot.participants).toHaveLength(2);

    const agent = new CometdAgent(fixture.gateway.url, await userToken('agent-a'));
    agents.push(agent);
    expect((await agent.handshake()).successful).toBe(true);
    expect(agent.transport).toBe('websocket');
    expect((await agent.subscribe()).successful).toBe(true);
    await waitFor(() => receiver.received.length === 2, 5000, 'join webhooks');

    // --- mute over HTTP
    const mute = await fixture.api.post(`/communications/calls/${callId}/participants/${agentA.id}/mute`, { clientContext: 'm1' });
    const counterAtAck = agentA.peer.nextCounter;
    expect(mute.status).toBe(200);
    await waitFor(() => subs.every((s) => s.deltas().length >= 1), 3000, 'delta at every subscriber');
    await agent.waitForMessages(1);
    await waitFor(() => receiver.received.length >= 3, 3000, 'mute webhook');
    await sleep(300); // anything extra would have arrived by now
    for (const s of subs) {
      expect(s.deltas()).toEqual([{ sequence: snapshotSeq + 1, change: 'updated', participants: [{ id: agentA.id, isMuted: true }] }]);
    }
    const jsonDelta = subs[0]!.messages.at(-1);
    expect(jsonDelta.value[0].resourceData[0]).toMatchObject({
      isMuted: true,
      isInLobby: false,
      info: { identity: { user: { id: 'agent-a' } } },
      mediaStreams: [expect.objectContaining({ serverMuted: true })],
    });
    expect(jsonDelta.value[0].resourceData[0].media).toBeUndefined(); // no addresses in broadcasts
    expect(receiver.received).toHaveLength(3);
    const hook = receiver.received[2]!.body;
    expect(hook).toMatchObject({
      '@odata.type': '#microsoft.graph.commsNotifications',
      '@mutegate.sequence': snapshotSeq + 1,
      value: [{ changeType: 'updated', resourceUrl: `/communications/calls/${callId}/participants`, resourceData: [{ id: agentA.id, isMuted: true }] }],
    });
    expect(agent.messages).toHaveLength(1);
    expect(agent.messages[0]).toMatchObject({
      channel: '/v2/me/calls',
      data: {
        messageType: 'CallStateChangeMessage',
        notificationType: 'StatusChange',
        call: { id: callId, mute: 'On', capabilities: ['UnmuteCall', 'RaiseHand'], state: 'Established', participants: [expect.objectContaining({ participantId: b.id })] },
      },
    });
    await sleep(200);
    expect(receivedSince(b.peer, agentA.peer, counterAtAck)).toBe(0);

    // --- unmute over HTTP
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${agentA.id}/unmute`, {})).status).toBe(200);
    await waitFor(() => subs.every((s) => s.deltas().length >= 2), 3000, 'unmute delta everywhere');
    await agent.waitForMessages(2);
    await waitFor(() => receiver.received.length >= 4, 3000, 'unmute webhook');
    await sleep(300);
    for (const s of subs) {
      expect(s.deltas()[1]).toEqual({ sequence: snapshotSeq + 2, change: 'updated', participants: [{ id: agentA.id, isMuted: false }] });
      expect(s.deltas()).toHaveLength(2);
    }
    expect(receiver.received).toHaveLength(4);
    expect(receiver.received[3]!.body.value[0].resourceData[0].isMuted).toBe(false);
    expect(agent.messages).toHaveLength(2);
    expect(agent.messages[1]!.data).toMatchObject({ notificationType: 'StatusChange', call: { mute: 'Off', capabilities: ['MuteCall', 'RaiseHand'] } });

    // --- the agent mutes itself through the Genesys API
    const genesysMute = await fixture.api.post(`/api/v2/me/calls/${callId}`, { operationName: 'MuteCall' }, { headers: { authorization: `Bearer ${await userToken('agent-a')}` } });
    const counterAtGenesysAck = agentA.peer.nextCounter;
    expect(genesysMute.status).toBe(200);
    expect(genesysMute.body).toEqual({ statusCode: 0 });
    await agent.waitForMessages(3);
    await waitFor(() => subs.every((s) => s.deltas().length >= 3), 3000, 'Genesys mute delta everywhere');
    expect(agent.messages[2]!.data).toMatchObject({ call: { mute: 'On', capabilities: ['UnmuteCall', 'RaiseHand'] } });
    for (const s of subs) expect(s.deltas()[2]).toMatchObject({ sequence: snapshotSeq + 3, participants: [{ id: agentA.id, isMuted: true }] });
    await sleep(300);
    expect(receivedSince(b.peer, agentA.peer, counterAtGenesysAck)).toBe(0);

    const calls = await fixture.api.request('GET', '/api/v2/me/calls', undefined, { headers: { authorization: `Bearer ${await userToken('agent-a')}` } });
    expect(calls.body).toMatchObject({ statusCode: 0, data: { calls: [{ id: callId, mute: 'On', capabilities: ['UnmuteCall', 'RaiseHand'], uri: `${fixture.gateway.url}/api/v2/me/calls/${callId}` }] } });

    // Leaving and the call ending reach everyone in order too.
    expect((await fixture.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
    await waitFor(() => subs.every((s) => s.deltas().some((d) => d.change === 'callEnded')), 3000, 'callEnded');
    for (const s of subs) {
      const seqs = s.deltas().map((d) => d.sequence);
      expect(seqs).toEqual(seqs.map((_, i) => snapshotSeq + 1 + i)); // no gaps, no repeats
      expect(s.deltas().at(-1)!.change).toBe('callEnded');
    }
    await waitFor(() => receiver.received.some((r) => r.body['@mutegate.change'] === 'callEnded'), 3000, 'callEnded webhook');
    const hookSeqs = receiver.received.map((r) => r.body['@mutegate.sequence']);
    expect(hookSeqs).toEqual(hookSeqs.map((_, i) => i + 1));
    await agent.waitForMessages(4);
    expect(agent.messages[3]!.data).toMatchObject({ notificationType: 'StatusChange', call: { state: 'Released' } });
  });

  it('also delivers to a CometD agent on long-polling, and only its own calls', async () => {
    const callId = await createGroupCall(fixture.api);
    const mine = await joinRtp(fixture.api, callId, { userId: 'agent-lp' });
    const other = await joinRtp(fixture.api, callId, { userId: 'agent-other' });
    peers.push(mine.peer, other.peer);
    const agent = new CometdAgent(fixture.gateway.url, await userToken('agent-lp'), 'long-polling');
    agents.push(agent);
    expect((await agent.handshake()).successful).toBe(true);
    expect(agent.transport).toBe('long-polling');
    expect((await agent.subscribe()).successful).toBe(true);

    // Someone else's mute: the agent hears of it as a participants update, once.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${other.id}/mute`, {})).status).toBe(200);
    await agent.waitForMessages(1);
    expect(agent.messages[0]!.data).toMatchObject({ notificationType: 'ParticipantsUpdated', call: { mute: 'Off', participants: [{ participantId: other.id, mute: 'On' }] } });
    // Its own mute: a StatusChange.
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${mine.id}/mute`, {})).status).toBe(200);
    await agent.waitForMessages(2);
    expect(agent.messages[1]!.data).toMatchObject({ notificationType: 'StatusChange', call: { mute: 'On' } });
    await sleep(300);
    expect(agent.messages).toHaveLength(2);
  });

  it('runs mute and unmute over the WebSocket in both encodings, with operation records', async () => {
    const callId = await createGroupCall(fixture.api);
    const a = await joinRtp(fixture.api, callId);
    const b = await joinRtp(fixture.api, callId);
    peers.push(a.peer, b.peer);
    a.startStreaming();
    b.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A → B');
    const [json, proto] = await subscribers(callId, 1, 1);

    const muteId = json!.request({ type: 'mute', callId, participantId: a.id, clientContext: 'over-ws' });
    const answer = await json!.answer(muteId);
    const counterAtAck = a.peer.nextCounter;
    expect(answer).toMatchObject({ type: 'response', requestId: muteId, status: 200, body: { '@odata.type': '#microsoft.graph.muteParticipantOperation', status: 'completed', clientContext: 'over-ws' } });
    const stored = await fixture.api.get(`/communications/calls/${callId}/operations/${answer.body.id}`);
    expect(stored.body).toMatchObject({ status: 'completed', clientContext: 'over-ws', participantId: a.id });
    await sleep(400);
    expect(receivedSince(b.peer, a.peer, counterAtAck)).toBe(0);

    const unmuteId = proto!.request({ type: 'unmute', callId, participantId: a.id, clientContext: 'proto' });
    const protoAnswer = await proto!.answer(unmuteId);
    expect(protoAnswer.response).toMatchObject({ requestId: unmuteId, operation: { type: 'unmuteParticipant', status: 'completed', clientContext: 'proto', participantId: a.id, callId } });
    const counterAtUnmute = a.peer.nextCounter;
    await waitFor(() => receivedSince(b.peer, a.peer, counterAtUnmute) >= 5, 3000, 'A forwarded after WS unmute');

    // Both subscribers saw both changes, in order.
    for (const c of [json!, proto!]) expect(c.deltas().map((d) => d.participants[0]!.isMuted)).toEqual([true, false]);

    // Resync answers with a fresh snapshot at the current sequence; unsubscribe stops deltas.
    const resyncId = proto!.request({ type: 'resync', callId });
    expect((await proto!.answer(resyncId)).snapshot.sequence).toBe(4);
    const unsubId = json!.request({ type: 'unsubscribe', callId });
    expect(await json!.answer(unsubId)).toMatchObject({ type: 'response', status: 200, body: { callId } });
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${b.id}/mute`, {})).status).toBe(200);
    await waitFor(() => proto!.deltas().length === 3, 3000, 'proto gets the third delta');
    await sleep(200);
    expect(json!.deltas()).toHaveLength(2);
  });

  it('keeps 200 subscribers up to date and cuts off a stalled one without delaying the others', async () => {
    const slowGateway = await startTestGateway({ MUTEGATE_WS_MAX_BUFFERED_BYTES: '65536', MUTEGATE_WS_SLOW_CLOSE_GRACE_MS: '10000' });
    try {
      const slowApi = apiClient(slowGateway.url);
      const callId = await createGroupCall(slowApi);
      const members = [];
      for (let i = 0; i < 6; i++) members.push(await joinRtp(slowApi, callId));
      peers.push(...members.map((m) => m.peer));

      const subs: RosterClient[] = [];
      for (let i = 0; i < 200; i++) subs.push(await RosterClient.connect(slowGateway.url, i % 2 === 0 ? 'json' : 'proto'));
      clients.push(...subs);
      await Promise.all(subs.map((c) => c.answer(c.request({ type: 'subscribe', callId }))));

      const stalled = await RosterClient.connect(slowGateway.url, 'json');
      clients.push(stalled);
      await stalled.answer(stalled.request({ type: 'subscribe', callId }));
      stalled.ws.pause(); // stops reading; the kernel buffers fill, then the server's
      for (let i = 0; i < 5000; i++) stalled.request({ type: 'resync', callId });
      await waitFor(() => slowGateway.sockets.connectionCount === 201 || stalled.closeCode !== null, 1000).catch(() => undefined);

      const started = Date.now();
      expect((await slowApi.post(`/communications/calls/${callId}/participants/${members[0]!.id}/mute`, {})).status).toBe(200);
      await waitFor(() => subs.every((s) => s.deltas().length === 1), 5000, 'all 200 subscribers got the delta');
      const fanOutMs = Date.now() - started;
      expect(fanOutMs).toBeLessThan(2000); // generous: measured in milliseconds on 2 cores
      for (const s of subs) expect(s.deltas()[0]).toMatchObject({ change: 'updated', participants: [{ id: members[0]!.id, isMuted: true }] });

      // The stalled client was closed as too slow: once it reads again it finds the close frame.
      await waitFor(() => slowGateway.sockets.connectionCount === 200, 5000, 'stalled subscriber dropped by the server');
      stalled.ws.resume();
      await stalled.closed(10_000);
      expect(stalled.closeCode).toBe(4008);
      expect(stalled.closeReason).toMatch(/too slow/);
      const metrics = (await slowApi.get('/metrics')).body as string;
      expect(metrics).toMatch(/^mutegate_websocket_connections 200$/m);
    } finally {
      for (const c of clients.splice(0)) c.close();
      await slowGateway.close();
    }
  });
});
