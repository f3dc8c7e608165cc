import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { joinRtp, type RtpParticipant } from '../helpers/rtpCall.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';

/** Graph webhooks: in order, retried with backoff, bounded, and counted when they fail. */
describe('Graph webhook delivery (real gateway, local receiver)', () => {
  const fixture = useGateway({
      MUTEGATE_WEBHOOKS_RETRY_DELAYS_MS: '[20,40,80]',
      MUTEGATE_WEBHOOKS_TIMEOUT_MS: '500',
      MUTEGATE_WEBHOOKS_MAX_QUEUE_PER_CALL: '5',
    });
  let receiver: WebhookReceiver;
  const participants: RtpParticipant[] = [];

  afterEach(async () => {
    for (const p of participants.splice(0)) p.peer.close();
    await receiver?.close();
  });

  async function metric(series: string): Promise<number> {
    const value = metricValue((await fixture.api.get('/metrics')).body as string, series);
    return Number.isNaN(value) ? 0 : value;
  }

  async function callWithHook(): Promise<string> {
    const res = await fixture.api.post('/communications/calls', { subject: 'hooked', callbackUri: receiver.url });
    expect(res.status).toBe(201);
    expect(res.body.callbackUri).toBe(receiver.url);
    return res.body.id;
  }

  it('retries failed deliveries with backoff and keeps notifications in order', async () => {
    receiver = await WebhookReceiver.start();
    receiver.respond = (attempt) => (attempt <= 2 ? 503 : 202); // the first notification fails twice
    const callId = await callWithHook();
    const a = await joinRtp(fixture.api, callId);
    participants.push(a);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    await waitFor(() => receiver.received.length === 2, 5000, 'both notifications');
    await sleep(200);
    expect(receiver.attempts).toBe(4);
    const seen = receiver.received.map((r) => `${r.body['@mutegate.sequence']}:${r.body['@mutegate.change']}:${r.body.value[0].resourceData[0].isMuted}`);
    expect(seen).toEqual(['1:joined:false', '2:updated:true']);
  });

  it('once the queue backs up (half full), newer state of a participant supersedes older state, in order', async () => {
    receiver = await WebhookReceiver.start();
    receiver.respond = (attempt) => (attempt <= 2 ? 503 : 202); // the head is retried while the others queue
    const supersededBefore = await metric('mutegate_webhook_deliveries_total{result="superseded"}');
    const callId = await callWithHook();
    const a = await joinRtp(fixture.api, callId);
    participants.push(a);
    for (const action of ['mute', 'unmute', 'mute']) {
      expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/${action}`, {})).status).toBe(200);
    }
    await waitFor(() => receiver.received.length === 2, 5000, 'the join and the last state');
    await sleep(200);
    const seen = receiver.received.map((r) => `${r.body['@mutegate.sequence']}:${r.body['@mutegate.change']}:${r.body.value[0].resourceData[0].isMuted}`);
    expect(seen).toEqual(['1:joined:false', '4:updated:true']);
    expect(await metric('mutegate_webhook_deliveries_total{result="superseded"}')).toBe(supersededBefore + 2);
  });

  it('counts a notification that fails every retry, and goes on with the next one', async () => {
    receiver = await WebhookReceiver.start();
    receiver.respond = (_attempt, body) => (body['@mutegate.change'] === 'joined' ? 500 : 202);
    const failuresBefore = await metric('mutegate_webhook_failures_total');
    const callId = await callWithHook();
    const a = await joinRtp(fixture.api, callId);
    participants.push(a);
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    await waitFor(() => receiver.received.length === 1, 5000, 'the mute notification');
    expect(receiver.attempts).toBe(5); // 1 + 3 retries for the join, 1 for the mute
    expect(receiver.received[0]!.body['@mutegate.change']).toBe('updated');
    expect(await metric('mutegate_webhook_failures_total')).toBe(failuresBefore + 1);
    expect(await metric('mutegate_webhook_deliveries_total{result="failed"}')).toBeGreaterThanOrEqual(1);
  });

  it('does not retry a notification the receiver refuses with a 4xx', async () => {
    receiver = await WebhookReceiver.start();
    receiver.respond = () => 404;
    const callId = await callWithHook();
    participants.push(await joinRtp(fixture.api, callId));
    await waitFor(() => receiver.attempts === 1, 3000, 'one attempt');
    await sleep(300);
    expect(receiver.attempts).toBe(1);
  });

  it('bounds the queue of a call whose receiver is stuck, and counts what it drops', async () => {
    receiver = await WebhookReceiver.start();
    receiver.respond = () => 503; // keeps the head of the queue busy retrying
    const droppedBefore = await metric('mutegate_webhook_deliveries_total{result="dropped"}');
    const supersededBefore = await metric('mutegate_webhook_deliveries_total{result="superseded"}');
    const callId = await callWithHook();
    const a = await joinRtp(fixture.api, callId);
    participants.push(a);
    for (let i = 0; i < 12; i++) {
      expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/${i % 2 ? 'unmute' : 'mute'}`, {})).status).toBe(200);
    }
    // 13 notifications of one participant, room for 5: once the queue is backed up, newer states
    // supersede older ones (and what still does not fit is dropped): at least 8 never go out.
    const notSent = (await metric('mutegate_webhook_deliveries_total{result="dropped"}')) + (await metric('mutegate_webhook_deliveries_total{result="superseded"}'));
    expect(notSent).toBeGreaterThanOrEqual(droppedBefore + supersededBefore + 8);
    expect((await fixture.api.get('/healthz')).status).toBe(200);
  });
});
