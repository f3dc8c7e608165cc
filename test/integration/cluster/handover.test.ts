import { afterAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import { apiClient, sleep, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';
import { useTwoNodes } from '../../helpers/cluster.js';
import { WebhookReceiver } from '../../helpers/webhookReceiver.js';

/**
 * A node that shuts down gracefully hands its calls over: it leaves the registry at once (the
 * call moves without waiting for its registration to expire), it tells neither the other nodes'
 * subscribers nor the call's webhook that the call ended, and the identities' mute state goes on.
 */
describe('cluster: graceful shutdown of the hosting node', () => {
  const cluster = useTwoNodes({ MUTEGATE_CLUSTER_NODE_TTL_MS: '60000' });
  const peers: RtpPeer[] = [];
  const clients: RosterClient[] = [];

  let receiver: WebhookReceiver | undefined;

  afterAll(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const peer of peers.splice(0)) peer.close();
    await receiver?.close();
  });

  it('moves the call to B at once; B’s subscriber and the webhook see the legs leave, not the call end; a muted identity rejoins muted', async () => {
    const apiA = apiClient(cluster.nodeA.url);
    const apiB = apiClient(cluster.nodeB.url);
    receiver = await WebhookReceiver.start();
    const webhook = receiver;
    const callId = await createGroupCall(apiA, { callbackUri: webhook.url });
    expect(cluster.nodeA.service.hasCall(callId), 'the call is on A (no load anywhere: the node asked keeps it)').toBe(true);
    const x = await joinRtp(apiA, callId);
    peers.push(x.peer);
    expect((await apiA.post(`/communications/calls/${callId}/participants/${x.id}/mute`, {})).status).toBe(200);

    const follower = await RosterClient.connect(cluster.nodeB.url, 'json');
    clients.push(follower);
    const subscribed = await follower.answer(follower.request({ type: 'subscribe', callId }));
    expect(subscribed["@mutegate.kind"], JSON.stringify(subscribed)).toBe("snapshot");

    // A shuts down (SIGTERM's path); the fixture's second close() at the end does nothing.
    await cluster.nodeA.close();
    const started = Date.now();
    const read = await apiB.get(`/communications/calls/${callId}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(Date.now() - started, 'taken over without waiting for the 60 s node TTL').toBeLessThan(2000);

    const rejoined = await joinRtp(apiB, callId, { userId: x.userId });
    peers.push(rejoined.peer);
    expect((await apiB.get(`/communications/calls/${callId}/participants/${rejoined.id}`)).body).toMatchObject({ isMuted: true });
    await sleep(300);
    const changes = follower.deltas().map((d) => d.change);
    expect(changes, 'what B’s subscriber was told').not.toContain('callEnded');
    expect(changes).toContain('left');
    expect(follower.closeCode).toBeNull();

    // The webhook: A posts X's leg leaving (its media was on A), never the end of the call; B
    // posts what follows (X joining again).
    const posted = () => webhook.received.map((r) => ({ change: r.body['@mutegate.change'] as string, id: r.body.value?.[0]?.resourceData?.[0]?.id as string | undefined }));
    await waitFor(() => posted().some((c) => c.change === 'joined' && c.id === rejoined.id), 5000, 'the rejoin, posted by B');
    expect(posted().map((c) => c.change)).not.toContain('callEnded');
    expect(posted()).toContainEqual({ change: 'left', id: x.id });
  }, 30_000);
});
