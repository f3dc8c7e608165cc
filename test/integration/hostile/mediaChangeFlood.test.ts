import { describe, expect, it } from 'vitest';
import { apiClient, sleep, useGateway } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * A participant replacing its own send stream (or joining again, or producing again over WebRTC)
 * makes every other participant's worker close the consumer of its old stream and create one of
 * the new, and tells their clients: the cost grows with the call. Within limits.ownRequestsPerSecond
 * alone (10 per second), one participant doing it in a loop in a call of 150 tripled the gateway's
 * CPU and everyone's mute p99 (native-bench/streamChurnCost.ts, 2026-12-08). Such media changes are also held to
 * limits.ownMediaChangesPerMinute (default 30, a burst of 10), across its joins and streams.
 */
describe('hostile participants: replacing its own stream in a loop', () => {
  const fixture = useGateway({});

  it('gets 429 tooManyMediaChanges past the burst, and a rejoin counts against the same allowance', async () => {
    const callId = await createGroupCall(fixture.api);
    const mallory = await joinRtp(fixture.api, callId, { userId: 'mallory' });
    const listeners = await Promise.all([0, 1, 2].map((i) => joinRtp(fixture.api, callId, { userId: `listener-${i}` })));
    const asMallory = apiClient(fixture.gateway.url, tokenFor({ role: 'participant', subject: 'mallory', call: callId }));
    try {
      const started = Date.now();
      const answers: { status: number; code: string | undefined; ssrc: number }[] = [];
      // 40 new streams at ~8 per second: within the per-second limit of her requests (10).
      for (let i = 0; i < 40; i++) {
        const ssrc = 50_000 + i;
        const res = await asMallory.patch(`/communications/calls/${callId}/participants/${mallory.id}`, { media: { payloadType: 100, ssrc } });
        answers.push({ status: res.status, code: (res.body as { error?: { innerError?: { code?: string } } }).error?.innerError?.code, ssrc });
        await sleep(120);
      }
      const seconds = (Date.now() - started) / 1000;
      const ok = answers.filter((a) => a.status === 200);
      const limited = answers.filter((a) => a.status === 429 && a.code === 'tooManyMediaChanges');
      expect(ok.length + limited.length, JSON.stringify(answers.filter((a) => a.status !== 200 && a.status !== 429))).toBe(answers.length);
      // The burst of 10, then one every 2 s.
      expect(ok.length).toBeGreaterThanOrEqual(10);
      expect(ok.length).toBeLessThanOrEqual(10 + Math.ceil(seconds / 2));
      // A refused request changed nothing: her stream is the last one accepted.
      const participant = (await fixture.api.get(`/communications/calls/${callId}/participants/${mallory.id}`)).body as {
        mediaStreams: { sourceId: string }[];
      };
      expect(participant.mediaStreams[0]?.sourceId).toBe(String(ok.at(-1)?.ssrc));

      // Joining again as herself is a media change too: refused while the allowance is spent.
      const rejoin = await asMallory.post(`/communications/calls/${callId}/participants`, {
        info: { identity: { user: { id: 'mallory' } } },
        media: { kind: 'rtp', payloadType: 100, ssrc: 60_000, srtp: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' } },
      });
      expect(rejoin.status, JSON.stringify(rejoin.body)).toBe(429);
      expect((rejoin.body as { error: { innerError: { code: string } } }).error.innerError.code).toBe('tooManyMediaChanges');
      // Others are not limited by her allowance: the application replaces her stream at once.
      const byApp = await fixture.api.patch(`/communications/calls/${callId}/participants/${mallory.id}`, { media: { payloadType: 100, ssrc: 70_000 } });
      expect(byApp.status, JSON.stringify(byApp.body)).toBe(200);
    } finally {
      mallory.peer.close();
      for (const l of listeners) l.peer.close();
    }
  }, 30_000);
});
