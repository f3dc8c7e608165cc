import { afterAll, describe, expect, it } from 'vitest';
import { sleep, useGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * A WebRTC join whose connection closes before the join completes: the participant it creates
 * belongs to no connection any more. It must leave like any participant whose signaling closed
 * (after webrtc.reconnectGraceMs), not stay in the call for good (a roster entry, a router slot
 * and a place under limits.participantsPerCall per attempt). A join waits in its identity's
 * queue behind what runs there: here a new send stream of the same person's plain-RTP leg, which
 * waits for the media worker, held still (SIGSTOP) while the connection closes. So the join
 * completes after the close, every time.
 */
describe('hostile participants: a WebRTC join on a connection closed before it completes', () => {
  const fixture = useGateway({ MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '200', MUTEGATE_MEDIA_NUM_WORKERS: '1' });
  let stopped: number | undefined;

  afterAll(() => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
  });

  it('leaves no participant behind', async () => {
    const callId = await createGroupCall(fixture.api);
    const token = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    const client = await RosterClient.connect(fixture.gateway.url, 'json', token);
    const caps = await client.answer(client.request({ type: 'getRouterRtpCapabilities', callId }));

    const rtpLeg = await joinRtp(fixture.api, callId, { userId: 'mallory' });

    const [pid] = fixture.gateway.pool.pids;
    expect(pid).toBeDefined();
    process.kill(pid as number, 'SIGSTOP');
    stopped = pid;
    // Runs in Mallory's queue and waits for the stopped worker; the join queues behind it.
    const patched = fixture.api.patch(`/communications/calls/${callId}/participants/${rtpLeg.id}`, { media: { payloadType: 100, ssrc: rtpLeg.ssrc + 1 } });
    await sleep(100);
    client.request({ type: 'join', callId, userId: 'mallory', displayName: 'Mallory', rtpCapabilities: caps.body.rtpCapabilities });
    client.close();
    await waitFor(() => fixture.gateway.sockets.connectionCount === 0, 5000, 'the connection closed on the gateway');
    process.kill(pid as number, 'SIGCONT');
    stopped = undefined;
    expect((await patched).status).toBe(200);

    // The join completes now, on no connection (it replaces the RTP leg); its participant leaves
    // after the grace period.
    const webrtcLegs = () => [...fixture.gateway.service.getCall(callId).participants.values()].filter((p) => p.mediaSpec.kind === 'webrtc').length;
    await waitFor(() => webrtcLegs() === 1, 5000, 'the join completed');
    await sleep(800);
    expect(fixture.gateway.service.getCall(callId).participants.size).toBe(0);
    rtpLeg.peer.close();
  }, 20_000);
});
