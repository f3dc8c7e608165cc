import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../native-bench/lib/RtpPeer.js';
import { tokenFor } from '../helpers/tokens.js';
import { apiClient, sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince } from '../helpers/rtpCall.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';

/**
 * A roster `left` delta says why the participant left, the same in every form: JSON
 * (`@mutegate.leaveReason`), protobuf (RosterDelta.leave_reason) and webhooks. Each reason is
 * caused for real: HTTP DELETEs, a rejoin, WebRTC signaling (leave, a closed connection), the end
 * of the call and a killed worker. Real worker, real UDP on 127.0.0.1.
 */
/** The gateway's log lines, parsed: the killed worker's error is expected, checked, and kept out of the test output. */
class LogCapture extends Writable {
  readonly lines: { msg?: string }[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line));
    done();
  }
}

describe('why a participant left, in JSON, protobuf and webhooks (real worker)', () => {
  const logs = new LogCapture();
  const fixture = useGateway({ MUTEGATE_MEDIA_NUM_WORKERS: '1', MUTEGATE_WEBRTC_RECONNECT_GRACE_MS: '300' }, pino({ level: 'warn' }, logs));
  let receiver: WebhookReceiver;
  const peers: RtpPeer[] = [];
  const clients: RosterClient[] = [];

  beforeAll(async () => {
    // One worker, so that killing it takes the call's media; a short grace, so a closed
    // signaling connection's participant leaves within the test.
    receiver = await WebhookReceiver.start();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const p of peers.splice(0)) p.close();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  async function connect(encoding: 'json' | 'proto'): Promise<RosterClient> {
    const client = await RosterClient.connect(fixture.gateway.url, encoding);
    clients.push(client);
    return client;
  }

  /** A JSON subscriber and a protobuf subscriber of the call, subscribed now. */
  async function subscribers(callId: string): Promise<RosterClient[]> {
    const subs = [await connect('json'), await connect('proto')];
    for (const s of subs) await s.answer(s.request({ type: 'subscribe', callId }));
    return subs;
  }

  /** Joins a WebRTC participant over `client`'s signaling (the router's capabilities stand in for a device's). */
  async function joinWebRtc(client: RosterClient, callId: string, userId: string): Promise<string> {
    const caps = (await client.answer(client.request({ type: 'getRouterRtpCapabilities', callId }))).body.rtpCapabilities;
    const join = await client.answer(client.request({ type: 'join', callId, userId, rtpCapabilities: caps }));
    expect(join, JSON.stringify(join)).toMatchObject({ type: 'response', status: 200 });
    return join.body.participantId as string;
  }

  it('removed, left (own DELETE, leave, closed connection), replaced and callEnded, before the call-ended delta', async () => {
    const callId = await createGroupCall(fixture.api, { callbackUri: receiver.url });
    const removed = await joinRtp(fixture.api, callId);
    const quitter = await joinRtp(fixture.api, callId);
    const stayer = await joinRtp(fixture.api, callId);
    const mover = await joinRtp(fixture.api, callId);
    peers.push(removed.peer, quitter.peer, stayer.peer, mover.peer);
    removed.startStreaming();
    stayer.startStreaming();
    await waitFor(() => receivedSince(stayer.peer, removed.peer, 0) >= 5, 5000, 'RTP flows through the real worker');
    const subs = await subscribers(callId);

    // The application removes one participant; another, with its own token, removes itself.
    expect((await fixture.api.delete(`/communications/calls/${callId}/participants/${removed.id}`)).status).toBe(204);
    const self = apiClient(fixture.gateway.url, tokenFor({ role: 'participant', subject: quitter.userId, call: callId }));
    expect((await self.delete(`/communications/calls/${callId}/participants/${quitter.id}`)).status).toBe(204);
    // The same person joins again (another device): its first leg is replaced.
    const moved = await joinRtp(fixture.api, callId, { userId: mover.userId });
    peers.push(moved.peer);
    // A browser leaves over its signaling connection; another one's connection closes.
    const leaving = await connect('json');
    const leaverId = await joinWebRtc(leaving, callId, 'webrtc-leaver');
    expect(await leaving.answer(leaving.request({ type: 'leave', callId, participantId: leaverId }))).toMatchObject({ type: 'response', status: 200 });
    const vanishing = await connect('json');
    const vanishedId = await joinWebRtc(vanishing, callId, 'webrtc-vanisher');
    vanishing.close();
    await waitFor(() => subs.every((s) => s.leaves().some((l) => l.participantId === vanishedId)), 5000, 'the closed connection’s participant leaves after the grace period');
    // The call ends with two participants in it.
    expect((await fixture.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
    await waitFor(() => subs.every((s) => s.deltas().some((d) => d.change === 'callEnded')), 5000, 'callEnded at every subscriber');
    await waitFor(() => receiver.received.some((r) => r.body['@mutegate.change'] === 'callEnded'), 5000, 'callEnded webhook');

    const expected = [
      { participantId: removed.id, reason: 'removed' },
      { participantId: quitter.id, reason: 'left' },
      { participantId: mover.id, reason: 'replaced' },
      { participantId: leaverId, reason: 'left' },
      { participantId: vanishedId, reason: 'left' },
      { participantId: stayer.id, reason: 'callEnded' },
      { participantId: moved.id, reason: 'callEnded' },
    ];
    for (const s of subs) {
      expect(s.leaves().map(({ participantId, reason }) => ({ participantId, reason })), s.encoding).toEqual(expected);
      // Every left delta comes before the call-ended delta, with no gap in the sequence.
      const deltas = s.deltas();
      const ended = deltas.at(-1)!;
      expect(ended.change).toBe('callEnded');
      expect(s.leaves().every((l) => l.sequence < ended.sequence)).toBe(true);
      expect(deltas.map((d) => d.sequence)).toEqual(deltas.map((_, i) => deltas[0]!.sequence + i));
    }
    // The JSON annotation rides on left deltas only.
    for (const m of subs[0]!.messages.filter((m) => m['@mutegate.kind'] === 'delta' && m['@mutegate.change'] !== 'left')) {
      expect(m).not.toHaveProperty('@mutegate.leaveReason');
    }
    // The webhook gets the same reasons, in order, as the same commsNotifications.
    const hooked = receiver.received
      .map((r) => r.body)
      .filter((body) => body['@mutegate.change'] === 'left')
      .map((body) => ({ participantId: body.value[0].resourceData[0].id, reason: body['@mutegate.leaveReason'] }));
    expect(hooked).toEqual(expected);
    const left = receiver.received.find((r) => r.body['@mutegate.change'] === 'left')!.body;
    expect(left).toMatchObject({ value: [{ changeType: 'deleted', resourceUrl: `/communications/calls/${callId}/participants` }] });
  });

  it('mediaLost: a WebRTC participant whose worker was killed is told to reconnect and leaves with that reason', async () => {
    const callId = await createGroupCall(fixture.api, { callbackUri: receiver.url });
    const a = await joinRtp(fixture.api, callId);
    const b = await joinRtp(fixture.api, callId);
    peers.push(a.peer, b.peer);
    a.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A → B before the crash');
    const browser = await connect('json');
    const browserId = await joinWebRtc(browser, callId, 'webrtc-crash');
    const subs = await subscribers(callId);
    const hooksBefore = receiver.received.length;

    const [pid] = fixture.gateway.pool.pids;
    process.kill(pid as number, 'SIGKILL');
    await waitFor(() => subs.every((s) => s.leaves().length === 1), 10_000, 'the WebRTC participant leaves at every subscriber');
    for (const s of subs) expect(s.leaves().map(({ participantId, reason }) => ({ participantId, reason })), s.encoding).toEqual([{ participantId: browserId, reason: 'mediaLost' }]);
    expect(browser.messages.find((m) => m.type === 'reconnect')).toMatchObject({ callId, participantId: browserId });
    await waitFor(() => receiver.received.slice(hooksBefore).some((r) => r.body['@mutegate.change'] === 'left'), 5000, 'left webhook');
    expect(receiver.received.slice(hooksBefore).find((r) => r.body['@mutegate.change'] === 'left')!.body).toMatchObject({
      '@mutegate.leaveReason': 'mediaLost',
      value: [{ resourceData: [{ id: browserId }] }],
    });
    expect(logs.lines.map((l) => l.msg)).toContain('mediasoup worker died; replacing it');
    // The plain-RTP participants were rebuilt, not removed.
    await waitFor(() => subs.every((s) => s.deltas().filter((d) => d.change === 'reconnect').length === 2), 10_000, 'RTP legs rebuilt');
    await sleep(200);
    for (const s of subs) expect(s.leaves()).toHaveLength(1);
  });
});
