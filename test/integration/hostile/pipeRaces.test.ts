import { describe, expect, it } from 'vitest';
import type { CallRouter } from '../../../src/media/CallRouter.js';
import { sleep, SPREAD_OVER_TWO_WORKERS, useGateway, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';

/**
 * A call over two real workers (tiny budget, as in bigcall/spreadOverWorkers). The muted source
 * M streams 1 packet/ms on worker A while listeners come and go on worker B, so each mute races
 * the creation of a pipe, and B's router is retired and created again between rounds. Every
 * receiver, on either worker, must get nothing M sent after any mute's 200.
 */
describe('hostile: mutes racing pipe creation and a router of the call closed and reopened', () => {
  const fx = useGateway(SPREAD_OVER_TWO_WORKERS);

  it('nothing of M after a mute 200, whether the mute raced a listener joining on the other worker or the listener joined while M was muted', async () => {
    const callId = await createGroupCall(fx.api);
    const media = fx.gateway.service.getCall(callId).media as unknown as CallRouter;
    const m = await joinRtp(fx.api, callId);
    const x = await joinRtp(fx.api, callId);
    fx.peers.push(m.peer, x.peer);
    const workerA = media.workerPidOf(m.id);
    m.peer.start({ to: m.send, payloadType: PAYLOAD_TYPE, ssrc: m.ssrc, intervalMs: 1, payloadBytes: 80 });
    const everyone: RtpParticipant[] = [x];
    /** Per receiver: M's counter at the latest mute 200 (checked once M was unmuted again and then muted). */
    const violations: string[] = [];
    let spread = 0;

    for (let round = 0; round < 6; round++) {
      // M is heard (unmuted) when the round starts.
      const delay = round * 3; // 0…15 ms: the mute lands at various points of the listener's join
      const joining = joinRtp(fx.api, callId);
      await sleep(delay);
      const mute = await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/mute`, {});
      const atMute = m.peer.nextCounter;
      expect(mute.status, JSON.stringify(mute.body)).toBe(200);
      const listener = await joining;
      fx.peers.push(listener.peer);
      everyone.push(listener);
      if (media.workerPidOf(listener.id) !== workerA) spread++;

      // A second listener joins while M is muted (a fresh pipe of a paused producer, or a router reopened).
      const late = await joinRtp(fx.api, callId);
      fx.peers.push(late.peer);
      everyone.push(late);
      if (media.workerPidOf(late.id) !== workerA) spread++;
      await sleep(300);
      for (const r of everyone) {
        const got = receivedSince(r.peer, m.peer, atMute);
        if (got > 0) violations.push(`round ${round}: ${got} packets on worker ${media.workerPidOf(r.id)} after the 200`);
      }

      // Unmute: heard again everywhere (the pipes are not stuck paused).
      expect((await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/unmute`, {})).status).toBe(200);
      const atUnmute = m.peer.nextCounter;
      await waitFor(() => everyone.every((r) => receivedSince(r.peer, m.peer, atUnmute) >= 20), 3000, `round ${round}: M heard again by all`);

      // Both listeners leave: B's router empties and is retired; the next round creates it again.
      for (const r of [listener, late]) {
        expect((await fx.api.delete(`/communications/calls/${callId}/participants/${r.id}`)).status).toBe(204);
        everyone.splice(everyone.indexOf(r), 1);
        r.peer.stop();
      }
    }
    m.peer.stop();
    expect(spread, 'some listeners were placed on the other worker').toBeGreaterThan(0);
    expect(violations).toEqual([]);
    expect((await fx.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
  });

  it('admission load returns to what it was once everyone left (no reservation or count leaks)', async () => {
    const totals = () => fx.gateway.pool.liveWorkers().map((w) => w.load.committed);
    const before = totals();
    const callId = await createGroupCall(fx.api);
    const ps: RtpParticipant[] = [];
    // Joins racing each other and leaves racing joins.
    const joined = await Promise.all(Array.from({ length: 5 }, () => joinRtp(fx.api, callId)));
    ps.push(...joined);
    for (const p of ps) fx.peers.push(p.peer);
    await Promise.all([fx.api.delete(`/communications/calls/${callId}/participants/${ps[0]?.id}`), joinRtp(fx.api, callId).then((p) => fx.peers.push(p.peer))]);
    expect((await fx.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
    await sleep(300);
    const after = totals();
    expect(after.map((l) => ({ consumers: l.consumers, producers: l.producers }))).toEqual(before.map((l) => ({ consumers: l.consumers, producers: l.producers })));
  });
});
