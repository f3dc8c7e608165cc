import { describe, expect, it } from 'vitest';
import { apiClient, useGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * A whole-roster snapshot is the most expensive answer a request can ask for, and the request is a
 * few bytes: a participant asking `resync` as fast as its socket drained the snapshots of a
 * 200-person call took the gateway from 12 % to 65–75 % of a core (native-bench/rosterReadCost.ts). Whole-roster reads of a
 * participant or moderator token (WebSocket subscribe and resync, the HTTP participant list) are
 * held to limits.rosterReadsPerSecond (5, a burst of 20) across its connections and transports;
 * the application is not.
 */
describe('hostile participants: asking for the whole roster over and over', () => {
  const fixture = useGateway({});

  it('gets 429 tooManyRosterReads past the burst, on every connection and over HTTP; the application does not', async () => {
    const callId = await createGroupCall(fixture.api);
    const legs = await Promise.all([0, 1, 2, 3].map((i) => joinRtp(fixture.api, callId, { userId: `person-${i}` })));
    const token = tokenFor({ role: 'participant', subject: 'person-0', call: callId });
    const first = await RosterClient.connect(fixture.gateway.url, 'json', token);
    const second = await RosterClient.connect(fixture.gateway.url, 'proto', token);
    const app = await RosterClient.connect(fixture.gateway.url, 'json');
    try {
      const subscribed = await first.answer(first.request({ type: 'subscribe', callId }));
      expect(subscribed.error, JSON.stringify(subscribed)).toBeUndefined();
      const started = Date.now();
      // 100 resyncs over two connections of the same token, at once.
      const ids = Array.from({ length: 100 }, (_, i) => {
        const client = i % 2 === 0 ? first : second;
        return { client, id: client.request({ type: i % 4 === 1 ? 'subscribe' : 'resync', callId }) };
      });
      await waitFor(() => ids.every(({ client, id }) => client.answersTo(id).length > 0), 10_000, 'an answer to each');
      const seconds = (Date.now() - started) / 1000;
      const answers = ids.map(({ client, id }) => client.answersTo(id)[0]);
      const snapshots = answers.filter((a) => a.error === undefined).length; // a snapshot (JSON: a commsNotifications)
      // The inner code: Graph's innerError.code in JSON, innerCode in protobuf.
      const innerCode = (a: (typeof answers)[number]) => a.error?.innerError?.code ?? (a.error as { innerCode?: string } | undefined)?.innerCode;
      const limited = answers.filter((a) => innerCode(a) === 'tooManyRosterReads').length;
      // Resyncs on the second connection without a subscription there are refused on their own (400).
      const notSubscribed = answers.filter((a) => innerCode(a) === 'notSubscribed').length;
      expect(snapshots + limited + notSubscribed, JSON.stringify(answers.filter((a) => a.error !== undefined).slice(0, 3))).toBe(100);
      // The burst of 20 (one went to the first subscribe), then 5 a second.
      expect(snapshots).toBeLessThanOrEqual(19 + Math.ceil(5 * seconds));
      expect(limited).toBeGreaterThanOrEqual(50);
      // The same allowance over HTTP.
      const list = await apiClient(fixture.gateway.url, token).get(`/communications/calls/${callId}/participants`);
      expect(list.status, JSON.stringify(list.body)).toBe(429);
      expect((list.body as { error: { innerError: { code: string } } }).error.innerError.code).toBe('tooManyRosterReads');
      // The connection is still there for deltas: the next change reaches it.
      expect(first.ws.readyState).toBe(first.ws.OPEN);
      const deltasBefore = first.deltas().length;
      expect((await fixture.api.post(`/communications/calls/${callId}/participants/${legs[1]!.id}/mute`, {})).status).toBe(200);
      await waitFor(() => first.deltas().length > deltasBefore, 3000, 'the mute delta on the limited connection');
      // And the application reads as often as it likes.
      const appIds = Array.from({ length: 40 }, () => app.request({ type: 'subscribe', callId }));
      await waitFor(() => appIds.every((id) => app.answersTo(id).length > 0), 10_000, 'the application answered');
      expect(appIds.every((id) => app.answersTo(id)[0].error === undefined)).toBe(true);
      expect((await fixture.api.get(`/communications/calls/${callId}/participants`)).status).toBe(200);
    } finally {
      first.close();
      second.close();
      app.close();
      for (const leg of legs) leg.peer.close();
    }
  }, 30_000);
});
