import { describe, expect, it } from 'vitest';
import { callKey } from '../../../src/cluster/keys.js';
import { apiClient, startTestGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';
import { useTwoNodes } from '../../helpers/cluster.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A participant with a valid token, connected to a node that does not host its call, doing what
 * costs the nodes the most: requests that need the other node, on connections closed at once,
 * over and over. Nothing may be left behind on either node.
 */
describe('cluster: a hostile participant on another node', () => {
  const cluster = useTwoNodes({ MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '200' });


  it('requests sent on connections closed at once leave no subscription, relay or participant behind', async () => {
    const callId = await createGroupCall(apiClient(cluster.nodeA.url));
    expect(cluster.nodeA.service.hasCall(callId)).toBe(true);
    const token = await tokenFor({ role: 'participant', subject: 'hostile', call: callId });
    const rounds = 20;
    for (let i = 0; i < rounds; i++) {
      const client = await RosterClient.connect(cluster.nodeB.url, i % 2 === 0 ? 'json' : 'proto', token);
      // Each of these needs node A (a snapshot over Redis, a WebSocket relay): the connection is
      // gone before B has even looked the call up.
      client.request({ type: 'subscribe', callId });
      client.request({ type: 'getRouterRtpCapabilities', callId });
      client.request({ type: 'join', callId, userId: 'hostile', rtpCapabilities: { codecs: [], headerExtensions: [] } });
      client.close();
    }
    // Every relay B opened to A is closed again, and A keeps no participant of them.
    await waitFor(() => cluster.nodeA.sockets.connectionCount === 0 && cluster.nodeB.sockets.connectionCount === 0, 5000, 'no WebSocket left on A or B');
    await sleep(500);
    expect(cluster.nodeA.sockets.connectionCount).toBe(0);
    expect(cluster.nodeA.service.getCall(callId).participants.size).toBe(0);
    // B follows the call for nobody: it listens to none of A's roster changes.
    const admin = cluster.redis.client();
    const channels = await admin.pubsub('CHANNELS', `*${callId}*`);
    admin.disconnect();
    expect(channels).toEqual([]);
  }, 30_000);

  it('a relay that leads back to its own node is refused, not relayed again and again', async () => {
    // Node C tells the cluster it is reached at B's address (a wrong cluster.advertiseUrl).
    const nodeC = await startTestGateway({ MUTEGATE_CLUSTER_REDIS_URL: cluster.redis.url, MUTEGATE_CLUSTER_ADVERTISE_URL: cluster.nodeB.url });
    try {
      const callId = await createGroupCall(apiClient(nodeC.url));
      const admin = cluster.redis.client();
      expect(await admin.hget(callKey(callId), 'node')).not.toBeNull();
      admin.disconnect();
      // Placement may have put the call on A; it must be C's for this test.
      if (!nodeC.service.hasCall(callId)) return expect.fail(`call placed on another node than C (${callId})`);
      const token = await tokenFor({ role: 'participant', subject: 'looped', call: callId });
      const client = await RosterClient.connect(cluster.nodeB.url, 'json', token);
      try {
        // B relays to "C" at B's own address: B refuses its own relay, and the client is told.
        const answer = await client.answer(client.request({ type: 'getRouterRtpCapabilities', callId }));
        expect(answer, JSON.stringify(answer)).toMatchObject({ type: 'error', status: 503, error: { innerError: { code: 'nodeUnreachable' } } });
        expect(String(answer.error.message)).toContain('508');
        await sleep(300);
        expect(cluster.nodeB.sockets.connectionCount).toBe(1);
      } finally {
        client.close();
      }
    } finally {
      await nodeC.close();
    }
  }, 30_000);

  it('a node whose registration expired while it stayed up ends its copy of a call another node took over', async () => {
    const callId = await createGroupCall(apiClient(cluster.nodeA.url));
    // Placed on the less loaded node: the test works with whichever hosts it.
    const [host, other] = cluster.nodeA.service.hasCall(callId) ? [cluster.nodeA, cluster.nodeB] : [cluster.nodeB, cluster.nodeA];
    expect(host.service.hasCall(callId)).toBe(true);
    const admin = cluster.redis.client();
    // The host counts as gone (its registration expired: a stalled loop, heartbeats that timed out)...
    const hostId = await admin.hget(callKey(callId), 'node');
    await admin.del(`mutegate:node:${hostId}`);
    // ...and a request through the other node takes the call over before the host renews.
    const read = await apiClient(other.url).get(`/communications/calls/${callId}`);
    expect(read.status).toBe(200);
    expect(other.service.hasCall(callId)).toBe(true);
    // The host's next heartbeat finds its registration gone, checks its calls and gives this one up.
    await waitFor(() => !host.service.hasCall(callId), 5000, 'the old host ends its copy of the call');
    expect(await admin.hget(callKey(callId), 'node')).not.toBe(hostId);
    admin.disconnect();
  }, 30_000);
});
