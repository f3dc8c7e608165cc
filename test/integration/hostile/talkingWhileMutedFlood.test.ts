import { afterAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import { sleep, useGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, PACKET_INTERVAL_MS, PAYLOAD_TYPE, receivedSince } from '../../helpers/rtpCall.js';

/**
 * A locked participant tries to turn `talkingWhileMuted` into a roster flood: it toggles between
 * speech and silence as fast as it likes, with audio levels claiming 0 dBov (the loudest). The
 * flag moves only on transitions of the media's own decayed reading (MutedSpeechDetector: on at a
 * speech interval, off after 1.5 s without one), so fast toggling is one change, and the
 * participant is still heard by nobody.
 */
describe('hostile: talkingWhileMuted cannot be turned into a roster flood', () => {
  const fixture = useGateway();
  const peers: RtpPeer[] = [];
  const clients: RosterClient[] = [];

  afterAll(async () => {
    for (const p of peers) p.close();
    for (const c of clients) c.close();
  });

  it('toggling speech every 100 ms for 4 s gives at most two talkingWhileMuted changes, and nothing is forwarded', async () => {
    const callId = await createGroupCall(fixture.api, { forwarding: { mode: 'speakers', maxSpeakers: 1 } });
    const mallory = await joinRtp(fixture.api, callId, { audioLevelExtensionId: 1 });
    const listener = await joinRtp(fixture.api, callId);
    peers.push(mallory.peer, listener.peer);
    mallory.peer.audioLevel = { id: 1, levelDbov: 0, voice: true };
    const json = await RosterClient.connect(fixture.gateway.url, 'json');
    clients.push(json);
    await json.answer(json.request({ type: 'subscribe', callId }));
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${mallory.id}/lock`, {})).status).toBe(200);
    const flags = () =>
      json.messages
        .filter((m) => m['@mutegate.kind'] === 'delta')
        .map((m) => m.value[0].resourceData[0])
        .filter((p) => p?.id === mallory.id && typeof p.talkingWhileMuted === 'boolean')
        .map((p) => p.talkingWhileMuted as boolean);
    const before = flags().length;

    const started = Date.now();
    while (Date.now() - started < 4000) {
      // 100 ms of full-size frames (speech, two per tick so that a loaded machine's late timers
      // still make it more than 20 packets/s on average), then 100 ms of nothing (DTX silence).
      for (let i = 0; i < 5; i++) {
        for (let k = 0; k < 2; k++) mallory.peer.sendOne({ to: mallory.send, payloadType: PAYLOAD_TYPE, ssrc: mallory.ssrc, payloadBytes: 160 });
        await sleep(PACKET_INTERVAL_MS);
      }
      await sleep(100);
    }
    await waitFor(() => flags().slice(before).includes(true), 3000, 'talkingWhileMuted shown once');
    const changes = flags().slice(before);
    // Each delta carries the participant's state: count the changes of the flag, not the deltas.
    const transitions = changes.filter((v, i) => i === 0 || v !== changes[i - 1]).length;
    expect(transitions, `flag sequence ${JSON.stringify(changes)}`).toBeLessThanOrEqual(2);
    expect(receivedSince(listener.peer, mallory.peer, 0)).toBe(0);
  });
});
