import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';
import { useTwoNodes } from '../../helpers/cluster.js';

/**
 * WebRTC signaling for a call on node A from a client connected to node B: B relays it to A (the
 * media and the signaling state are A's), with the client's own token, in both encodings.
 */
describe('cluster: WebRTC signaling through another node', () => {
  const cluster = useTwoNodes({ MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '200' });
  const clients: RosterClient[] = [];

  afterAll(async () => {
    for (const client of clients.splice(0)) client.close();
  });

  for (const encoding of ['json', 'proto'] as const) {
    it(`joins through B a call on A, gets A's transports, and leaves (${encoding})`, async () => {
      const apiA = apiClient(cluster.nodeA.url);
      const callId = await createGroupCall(apiA);
      // A new call goes to the least loaded node (the previous test's call may weigh on A by now):
      // "A" is whichever node hosts it, "B" the other one, the client's.
      const [home, through] = cluster.nodeA.service.hasCall(callId) ? [cluster.nodeA, cluster.nodeB] : [cluster.nodeB, cluster.nodeA];
      expect(home.service.hasCall(callId)).toBe(true);
      const userId = `webrtc-${encoding}`;
      const token = await tokenFor({ role: 'participant', subject: userId, call: callId });
      const client = await RosterClient.connect(through.url, encoding, token);
      clients.push(client);

      const caps = await client.answer(client.request({ type: 'getRouterRtpCapabilities', callId }));
      const rtpCapabilities = encoding === 'json' ? caps.body.rtpCapabilities : JSON.parse(caps.response.resultJson).rtpCapabilities;
      expect(rtpCapabilities.codecs.length, JSON.stringify(caps)).toBeGreaterThan(0);
      const capabilities = encoding === 'json' ? { rtpCapabilities } : { rtpCapabilitiesJson: JSON.stringify(rtpCapabilities) };
      const join = await client.answer(client.request({ type: 'join', callId, userId, ...capabilities }));
      const participantId = encoding === 'json' ? join.body?.participantId : JSON.parse(join.response?.resultJson ?? '{}').participantId;
      expect(participantId, JSON.stringify(join)).toEqual(expect.any(String));
      // The participant is A's: in A's roster, with its signaling on the relay B opened.
      expect(home.service.getCall(callId).participants.has(participantId)).toBe(true);

      const recv = await client.answer(client.request({ type: 'createTransport', callId, participantId, direction: 'recv' }));
      const transport = encoding === 'json' ? recv.body?.transport : JSON.parse(recv.response?.resultJson ?? '{}').transport;
      expect(transport, JSON.stringify(recv)).toMatchObject({ id: expect.any(String), iceCandidates: [expect.objectContaining({ ip: '127.0.0.1' })] });

      // The client leaves by closing its connection to B: B closes its relay, and A lets the
      // participant go after webrtc.reconnectGraceMs, as for a client connected to A directly.
      client.close();
      await waitFor(() => !home.service.getCall(callId).participants.has(participantId), 5000, 'the participant released on A');
    }, 20_000);
  }
});
