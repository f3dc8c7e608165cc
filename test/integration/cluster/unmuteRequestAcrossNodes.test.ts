import { afterAll, describe, expect, it } from 'vitest';
import { useTwoNodes } from '../../helpers/cluster.js';
import { apiClient, sleep } from '../../helpers/gateway.js';
import { RosterClient, type AnyMessage } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/** The unmute requests a client received, in either encoding. */
function unmuteRequests(client: RosterClient): AnyMessage[] {
  return client.messages.filter((m) => m.type === 'unmuteRequested' || m.unmuteRequested !== undefined).map((m) => m.unmuteRequested ?? m);
}

/**
 * A moderator's unmute request reaches the asked participant's own connections on every node,
 * once each, and nobody else's: the call is on A, the participant follows it from B.
 */
describe('cluster: unmute requests reach the participant wherever it is connected', () => {
  const cluster = useTwoNodes();
  const clients: RosterClient[] = [];
  const peers: RtpParticipant[] = [];
  afterAll(() => {
    for (const client of clients.splice(0)) client.close();
    for (const p of peers.splice(0)) p.peer.close();
  });
  const connect = async (url: string, encoding: 'json' | 'proto', token: string) => {
    const client = await RosterClient.connect(url, encoding, token);
    clients.push(client);
    return client;
  };

  it('a participant following the roster from B hears it (JSON and protobuf), another participant does not, and it stays muted', async () => {
    const apiA = apiClient(cluster.nodeA.url);
    const callId = await createGroupCall(apiA);
    expect(cluster.nodeA.service.hasCall(callId)).toBe(true);
    const ann = await joinRtp(apiA, callId, { userId: 'ann' });
    const bob = await joinRtp(apiA, callId, { userId: 'bob' });
    peers.push(ann, bob);
    expect((await apiA.post(`/communications/calls/${callId}/participants/${ann.id}/mute`, {})).status).toBe(200);

    const annJson = await connect(cluster.nodeB.url, 'json', await tokenFor({ role: 'participant', subject: 'ann', call: callId }));
    const annProto = await connect(cluster.nodeB.url, 'proto', await tokenFor({ role: 'participant', subject: 'ann', call: callId }));
    const bobJson = await connect(cluster.nodeB.url, 'json', await tokenFor({ role: 'participant', subject: 'bob', call: callId }));
    for (const client of [annJson, annProto, bobJson]) expect((await client.answer(client.request({ type: 'subscribe', callId }))).error).toBeUndefined();

    const moderator = await connect(cluster.nodeB.url, 'json', await tokenFor({ role: 'moderator', subject: 'mod', calls: [callId] }));
    const asked = await moderator.answer(moderator.request({ type: 'requestUnmute', callId, participantId: ann.id, clientContext: 'please speak' }));
    expect(asked.error, JSON.stringify(asked)).toBeUndefined();
    await sleep(300);

    expect(unmuteRequests(annJson)).toEqual([expect.objectContaining({ callId, participantId: ann.id, clientContext: 'please speak' })]);
    expect(unmuteRequests(annProto)).toEqual([expect.objectContaining({ callId, participantId: ann.id, clientContext: 'please speak' })]);
    expect(unmuteRequests(bobJson)).toEqual([]);
    expect(unmuteRequests(moderator)).toEqual([]);
    expect(cluster.nodeA.service.getCall(callId).participants.get(ann.id)?.isMuted).toBe(true);
  });

  it('a WebRTC participant whose signaling B relays to A hears it once (through the relay, not again from B)', async () => {
    const apiA = apiClient(cluster.nodeA.url);
    const callId = await createGroupCall(apiA);
    const cara = await connect(cluster.nodeB.url, 'json', await tokenFor({ role: 'participant', subject: 'cara', call: callId }));
    const caps = await cara.answer(cara.request({ type: 'getRouterRtpCapabilities', callId }));
    const join = await cara.answer(cara.request({ type: 'join', callId, userId: 'cara', rtpCapabilities: caps.body.rtpCapabilities }));
    const participantId = join.body?.participantId as string;
    expect(participantId, JSON.stringify(join)).toEqual(expect.any(String));
    expect((await apiA.post(`/communications/calls/${callId}/participants/${participantId}/mute`, {})).status).toBe(200);

    expect((await apiA.post(`/communications/calls/${callId}/participants/${participantId}/requestUnmute`, {})).status).toBe(200);
    await sleep(300);
    expect(unmuteRequests(cara)).toEqual([expect.objectContaining({ callId, participantId })]);
  });
});
