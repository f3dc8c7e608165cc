import { describe, expect, it } from 'vitest';
import { sleep, useGateway } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, receivedSince } from '../../helpers/rtpCall.js';

/**
 * A deafen racing the creation of a consumer for the deafened listener. The source S replaces its
 * send stream (PATCH, a new producer: every listener gets a new consumer) while it already streams
 * the new SSRC at 1 packet/ms (it chose the SSRC, so it can), and the listener L is deafened a few
 * milliseconds into that PATCH. The deafen must succeed (it used to fail closed, 503 and L's media
 * torn down, when it asked the worker to pause L's consumer of the old stream just as the PATCH
 * closed it: another participant could knock L off the call that way), and its 200 must mean
 * that L gets nothing S sends after it (a consumer asked of the worker before the deafen is not
 * born paused: the deafen waits for its adoption's pause).
 */
describe('hostile: a deafen racing a new consumer for the deafened listener', () => {
  const fx = useGateway();

  it('nothing reaches L after the deafen 200, at any offset into the source PATCH', async () => {
    const callId = await createGroupCall(fx.api);
    const l = await joinRtp(fx.api, callId);
    const s = await joinRtp(fx.api, callId);
    fx.peers.push(l.peer, s.peer);
    const violations: string[] = [];
    let ssrc = s.ssrc;

    for (let round = 0; round < 8; round++) {
      ssrc += 1000;
      // S streams the SSRC it is about to announce: the worker drops it until the producer exists.
      s.peer.stop();
      s.peer.start({ to: s.send, payloadType: PAYLOAD_TYPE, ssrc, intervalMs: 1, payloadBytes: 80 });
      const patch = fx.api.patch(`/communications/calls/${callId}/participants/${s.id}`, { media: { payloadType: PAYLOAD_TYPE, ssrc } });
      await sleep(round);
      const deafen = await fx.api.post(`/communications/calls/${callId}/participants/${l.id}/deafen`, {});
      const atDeafen = s.peer.nextCounter;
      expect(deafen.status, JSON.stringify(deafen.body)).toBe(200);
      expect((await patch).status).toBe(200);
      await sleep(200);
      const got = receivedSince(l.peer, s.peer, atDeafen);
      if (got > 0) violations.push(`round ${round} (deafen ${round} ms into the PATCH): ${got} packets after the 200`);

      // Undeafened, L hears the new stream (the race did not leave it stuck).
      expect((await fx.api.post(`/communications/calls/${callId}/participants/${l.id}/undeafen`, {})).status).toBe(200);
      const atUndeafen = s.peer.nextCounter;
      await sleep(300);
      expect(receivedSince(l.peer, s.peer, atUndeafen), `round ${round}: L hears S again`).toBeGreaterThan(100);
    }
    s.peer.stop();
    expect(violations).toEqual([]);
    expect((await fx.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
  });
});
