import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, metricValue, useGateway, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';
import { WebhookReceiver } from '../../helpers/webhookReceiver.js';

/**
 * A participant cannot hide the call from its backend: toggling its hand (or rejoining) in a
 * loop against a slow webhook receiver used to fill the call's webhook queue, and the backend then
 * never heard of a moderator's mute or of the end of the call. Newer news about a participant now
 * replaces older news about it in the queue. (One participant is now also held to
 * limits.ownRequestsPerSecond, its rejoins to limits.ownMediaChangesPerMinute and all its requests
 * to limits.requestsPerSecond, which alone would keep this flood small; the limits are raised here so that the queue's own defence is what
 * is tested: many participants, each within the limits, can together cause as much.)
 */
describe('hostile participants: flooding the webhook queue', () => {
  const fixture = useGateway({
    MUTEGATE_WEBHOOKS_MAX_QUEUE_PER_CALL: '50',
    MUTEGATE_LIMITS_OWN_REQUESTS_PER_SECOND: '100000',
    MUTEGATE_LIMITS_OWN_MEDIA_CHANGES_PER_MINUTE: '6000000',
    MUTEGATE_LIMITS_REQUESTS_PER_SECOND: '1000000',
  });
  let receiver: WebhookReceiver;
  let callId: string;
  let bob: RtpParticipant;
  let mallory: RtpParticipant;
  const admin = () => apiClient(fixture.gateway.url);

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    receiver.delayMs = 50;
    callId = await createGroupCall(admin(), { callbackUri: receiver.url });
    bob = await joinRtp(admin(), callId, { userId: 'bob' });
    const asMallory = apiClient(fixture.gateway.url, await tokenFor({ role: 'participant', subject: 'mallory', call: callId }));
    mallory = await joinRtp(asMallory, callId, { userId: 'mallory', srtp: 'AES_CM_128_HMAC_SHA1_80' });
    // 600 hand toggles and 30 rejoins, far more than the queue (50) holds at 20 deliveries/s.
    const hand = (raised: boolean) => asMallory.post(`/communications/calls/${callId}/participants/${mallory.id}/${raised ? 'raiseHand' : 'lowerHand'}`, {});
    for (let i = 0; i < 300; i++) await Promise.all([hand(true), hand(false)]);
    for (let i = 0; i < 30; i++) {
      mallory.peer.close();
      mallory = await joinRtp(asMallory, callId, { userId: 'mallory', srtp: 'AES_CM_128_HMAC_SHA1_80' });
    }
  });
  afterAll(async () => {
    for (const p of [bob, mallory]) p?.peer.close();
    await receiver?.close();
  });

  it("the backend still hears the moderator's mute of another participant and the end of the call", async () => {
    expect((await admin().post(`/communications/calls/${callId}/participants/${bob.id}/mute`, {})).status).toBe(200);
    const bobMuted = () =>
      receiver.received.some(
        (r) => r.body['@mutegate.change'] === 'updated' && r.body.value[0].resourceData[0].id === bob.id && r.body.value[0].resourceData[0].isMuted === true,
      );
    await waitFor(bobMuted, 15_000, "bob's mute at the backend");
    expect((await admin().delete(`/communications/calls/${callId}`)).status).toBe(204);
    await waitFor(() => receiver.received.some((r) => r.body['@mutegate.change'] === 'callEnded'), 15_000, 'the end of the call at the backend');
    // Delivered in sequence order, with the superseded ones left out, and far fewer than were caused.
    const sequences = receiver.received.map((r) => r.body['@mutegate.sequence'] as number);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(receiver.received.length).toBeLessThan(100);
    const metrics = (await admin().get('/metrics')).body as string;
    expect(metricValue(metrics, 'mutegate_webhook_deliveries_total{result="superseded"}')).toBeGreaterThan(500);
  }, 40_000);
});
