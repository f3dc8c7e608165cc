import { afterAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import { CometdAgent } from '../../helpers/cometdAgent.js';
import { apiClient, sleep, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, receivedSince } from '../../helpers/rtpCall.js';
import { userToken } from '../../helpers/tokens.js';
import { useTwoNodes } from '../../helpers/cluster.js';

/**
 * A Genesys agent whose CometD session is on node B hears of its leg in a call hosted by node A,
 * and mutes itself through B's Genesys API: A's worker drops its packets from the 200 on.
 */
describe('cluster: a Genesys agent on another node than its call', () => {
  const cluster = useTwoNodes();
  const peers: RtpPeer[] = [];
  const agents: CometdAgent[] = [];

  afterAll(async () => {
    await Promise.all(agents.splice(0).map((a) => a.disconnect()));
    for (const peer of peers.splice(0)) peer.close();
  });

  it('delivers CallStateChangeMessage through B for a call on A, and MuteCall through B is enforced on A', async () => {
    const apiA = apiClient(cluster.nodeA.url);
    const callId = await createGroupCall(apiA);
    expect(cluster.nodeA.service.hasCall(callId)).toBe(true);

    const token = await userToken('agent-x');
    const agent = new CometdAgent(cluster.nodeB.url, token);
    agents.push(agent);
    expect((await agent.handshake()).successful).toBe(true);
    expect((await agent.subscribe()).successful).toBe(true);
    // The subscription is announced to A over Redis; give it a moment to land there.
    await sleep(200);

    const leg = await joinRtp(apiA, callId, { userId: 'agent-x' });
    const listener = await joinRtp(apiA, callId);
    peers.push(leg.peer, listener.peer);
    leg.startStreaming();
    await waitFor(() => receivedSince(listener.peer, leg.peer, 0) >= 10, 5000, 'agent → listener on A');
    await agent.waitForMessages(1);
    expect(agent.messages[0]?.data).toMatchObject({ messageType: 'CallStateChangeMessage', notificationType: 'StatusChange', call: { id: callId, mute: 'Off' } });

    const mute = await apiClient(cluster.nodeB.url, token).post(`/api/v2/me/calls/${callId}`, { operationName: 'MuteCall' });
    const afterMute = leg.peer.nextCounter;
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    expect(mute.body).toEqual({ statusCode: 0 });
    await waitFor(() => agent.messages.some((m) => (m.data as { call?: { mute?: string } }).call?.mute === 'On'), 3000, 'the mute on the agent channel');
    expect(agent.messages.at(-1)?.data).toMatchObject({ notificationType: 'StatusChange', call: { mute: 'On', capabilities: ['UnmuteCall', 'RaiseHand'] } });
    await sleep(500);
    expect(receivedSince(listener.peer, leg.peer, afterMute), 'packets of the muted agent forwarded by A').toBe(0);
  }, 30_000);
});
