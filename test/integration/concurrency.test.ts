import { afterAll, describe, expect, it } from 'vitest';
import { apiClient, sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince, type RtpParticipant } from '../helpers/rtpCall.js';
import { tokenFor } from '../helpers/tokens.js';
import { seededRandom } from '../helpers/seededRandom.js';

/**
 * 200 interleaved mute/unmute requests on one participant, from several clients over HTTP and
 * WebSocket, while it streams RTP: the state that stands is the last operation's, the media
 * agrees with it, and the roster's sequence numbers have no gap.
 */
describe('concurrent mute/unmute on one participant (real worker, real RTP)', () => {
  // About ordering under concurrency, not about the limit of a participant's own requests
  // (hostile/ownRequestFlood.test.ts): A's 150 requests about itself, at once, all run here.
  const fixture = useGateway({ MUTEGATE_LIMITS_OWN_REQUESTS_IN_FLIGHT: '1000', MUTEGATE_LIMITS_OWN_REQUESTS_PER_SECOND: '100000' });
  const participants: RtpParticipant[] = [];
  const clients: RosterClient[] = [];

  afterAll(async () => {
    for (const p of participants) p.peer.close();
    for (const c of clients) c.close();
  });

  it('settles on the last operation, with media and roster agreeing', async () => {
    const app = apiClient(fixture.gateway.url);
    const callId = await createGroupCall(app);
    const a = await joinRtp(app, callId, { userId: 'concurrent-a' });
    const b = await joinRtp(app, callId);
    participants.push(a, b);
    a.startStreaming();
    b.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A → B');

    const watcher = await RosterClient.connect(fixture.gateway.url, 'json');
    clients.push(watcher);
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));
    const startSeq = watcher.snapshotSequence();

    // Four clients: A itself over HTTP and over the WebSocket, the application over HTTP twice.
    const selfToken = tokenFor({ role: 'participant', subject: 'concurrent-a', call: callId });
    const selfHttp = apiClient(fixture.gateway.url, selfToken);
    const appHttp = apiClient(fixture.gateway.url);
    const selfWs = await RosterClient.connect(fixture.gateway.url, 'json', selfToken);
    clients.push(selfWs);
    const url = (action: string) => `/communications/calls/${callId}/participants/${a.id}/${action}`;
    const requests: Promise<{ id: string; action: string; status: number }>[] = [];
    // Seeded: the same interleaving of mutes and unmutes on every run.
    const random = seededRandom(20261203);
    for (let i = 0; i < 200; i++) {
      const action = random() < 0.5 ? 'mute' : 'unmute';
      const clientContext = `c${i}`;
      switch (i % 4) {
        case 0:
        case 1: {
          const http = i % 4 === 0 ? selfHttp : appHttp;
          requests.push(http.post(url(action), { clientContext }).then((r) => ({ id: r.body.id, action, status: r.status })));
          break;
        }
        default: {
          const requestId = selfWs.request({ type: action, callId, participantId: a.id, clientContext });
          requests.push(selfWs.answer(requestId, 20_000).then((m) => ({ id: m.body?.id, action, status: m.status })));
        }
      }
    }
    const results = await Promise.all(requests);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);

    // The operation that finished last is the one whose state stands.
    const operations = await Promise.all(results.map((r) => app.get(`/communications/calls/${callId}/operations/${r.id}`)));
    const sequences = operations.map((o) => o.body.finishedSequence as number);
    expect(new Set(sequences).size).toBe(200);
    const last = operations.reduce((x, y) => (y.body.finishedSequence > x.body.finishedSequence ? y : x)).body;
    const finalMuted = (await app.get(`/communications/calls/${callId}/participants/${a.id}`)).body.isMuted;
    expect(finalMuted).toBe(last['@odata.type'] === '#microsoft.graph.muteParticipantOperation');

    // The roster told every change, numbered without a gap, ending on the final state.
    await sleep(200);
    const deltas = watcher.deltas();
    expect(deltas.map((d) => d.sequence)).toEqual(deltas.map((_, i) => startSeq + 1 + i));
    // 200 random mutes and unmutes from an unmuted start change the state at least once.
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.at(-1)!.participants[0]!.isMuted).toBe(finalMuted);

    // The media agrees with the state.
    const counterNow = a.peer.nextCounter;
    if (finalMuted) {
      await sleep(600);
      expect(a.peer.nextCounter - counterNow).toBeGreaterThanOrEqual(20);
      expect(receivedSince(b.peer, a.peer, counterNow)).toBe(0);
    } else {
      await waitFor(() => receivedSince(b.peer, a.peer, counterNow) >= 10, 3000, 'A forwarded while unmuted');
    }
  });
});
