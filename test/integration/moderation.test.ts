import { afterEach, describe, expect, it } from 'vitest';
import { apiClient, sleep, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince, type RtpParticipant } from '../helpers/rtpCall.js';
import { appToken, tokenFor } from '../helpers/tokens.js';
import { NodeWebSocket } from '../helpers/nodeWebSocket.js';
import { MutegateSocket } from '../../src/client/index.js';
import { protoEncoding } from '../../src/client/proto.js';

/** Moderation enforced in the worker: deafen, mute all, mute on entry, lock. Real RTP. */
describe('moderation (real worker, real RTP)', () => {
  const fixture = useGateway({ MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'false' });
  const participants: RtpParticipant[] = [];
  const clients: RosterClient[] = [];

  afterEach(() => {
    for (const p of participants.splice(0)) p.peer.close();
    for (const c of clients.splice(0)) c.close();
  });

  async function streaming(callId: string, count: number, opts: { userIds?: string[] } = {}) {
    const list: RtpParticipant[] = [];
    for (let i = 0; i < count; i++) {
      const userId = opts.userIds?.[i];
      list.push(await joinRtp(fixture.api, callId, userId ? { userId } : {}));
    }
    participants.push(...list);
    for (const p of list) p.startStreaming();
    await waitFor(() => list.every((r) => list.every((s) => s === r || receivedSince(r.peer, s.peer, 0) >= 3)), 5000, 'everyone hears everyone');
    return list;
  }

  it('deafens a participant: it hears nobody, newcomers included, while everyone still hears it', async () => {
    const callId = await createGroupCall(fixture.api);
    const [a, b, c] = await streaming(callId, 3);
    const watcher = await RosterClient.connect(fixture.gateway.url, 'proto');
    clients.push(watcher);
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));

    const deafen = await fixture.api.post(`/communications/calls/${callId}/participants/${b!.id}/deafen`, { clientContext: 'quiet' });
    expect(deafen.status).toBe(200);
    expect(deafen.body).toMatchObject({ '@odata.type': '#mutegate.deafenParticipantOperation', status: 'completed' });
    const from = { a: a!.peer.nextCounter, c: c!.peer.nextCounter, b: b!.peer.nextCounter };
    const newcomer = await joinRtp(fixture.api, callId);
    participants.push(newcomer);
    newcomer.startStreaming();
    await sleep(800);
    expect(receivedSince(b!.peer, a!.peer, from.a)).toBe(0);
    expect(receivedSince(b!.peer, c!.peer, from.c)).toBe(0);
    expect(receivedSince(b!.peer, newcomer.peer, 0)).toBe(0);
    expect(receivedSince(c!.peer, b!.peer, from.b)).toBeGreaterThanOrEqual(20); // B is still heard
    expect(receivedSince(c!.peer, newcomer.peer, 0)).toBeGreaterThanOrEqual(10);
    const roster = (await fixture.api.get(`/communications/calls/${callId}/participants/${b!.id}`)).body;
    expect(roster).toMatchObject({ deafened: true, isMuted: false });
    const protoDelta = watcher.messages.find((m) => m.delta?.participants?.[0]?.id === b!.id);
    expect(protoDelta.delta.participants[0]).toMatchObject({ deafened: true });

    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${b!.id}/undeafen`, {})).status).toBe(200);
    const afterUndeafen = { a: a!.peer.nextCounter, n: newcomer.peer.nextCounter };
    await waitFor(
      () => receivedSince(b!.peer, a!.peer, afterUndeafen.a) >= 5 && receivedSince(b!.peer, newcomer.peer, afterUndeafen.n) >= 5,
      3000,
      'B hears again',
    );
  });

  it('mutes everyone but the listed participants in one operation', async () => {
    const callId = await createGroupCall(fixture.api);
    const [a, b, c] = await streaming(callId, 3);
    const res = await fixture.api.post(`/communications/calls/${callId}/muteAll`, { exceptParticipantIds: [c!.id], clientContext: 'quiet please' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ '@odata.type': '#mutegate.muteAllOperation', status: 'completed', clientContext: 'quiet please' });
    expect(res.body.results.map((r: { participantId: string; status: string }) => [r.participantId, r.status]).sort()).toEqual(
      [
        [a!.id, 'completed'],
        [b!.id, 'completed'],
      ].sort(),
    );
    const from = { a: a!.peer.nextCounter, b: b!.peer.nextCounter, c: c!.peer.nextCounter };
    await sleep(600);
    expect(receivedSince(c!.peer, a!.peer, from.a)).toBe(0);
    expect(receivedSince(c!.peer, b!.peer, from.b)).toBe(0);
    expect(receivedSince(a!.peer, c!.peer, from.c)).toBeGreaterThanOrEqual(20);
    const roster = (await fixture.api.get(`/communications/calls/${callId}/participants`)).body.value;
    expect(Object.fromEntries(roster.map((p: { id: string; isMuted: boolean }) => [p.id, p.isMuted]))).toEqual({ [a!.id]: true, [b!.id]: true, [c!.id]: false });
  });

  it('mutes newcomers on entry from their first packet', async () => {
    const callId = await createGroupCall(fixture.api);
    const [a] = await streaming(callId, 1);
    const patched = await fixture.api.patch(`/communications/calls/${callId}`, { muteOnEntry: true });
    expect(patched.body).toMatchObject({ muteOnEntry: true });
    const late = await joinRtp(fixture.api, callId);
    participants.push(late);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${late.id}`)).body.isMuted).toBe(true);
    late.startStreaming();
    await sleep(700);
    expect(late.peer.nextCounter).toBeGreaterThanOrEqual(25);
    expect(receivedSince(a!.peer, late.peer, 0)).toBe(0);
  });

  it('locks a participant: its own unmute is refused until unlocked, then works', async () => {
    const callId = await createGroupCall(fixture.api);
    const [a, b] = await streaming(callId, 2, { userIds: ['locked-a'] });
    const self = apiClient(fixture.gateway.url, tokenFor({ role: 'participant', subject: 'locked-a', call: callId }));
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a!.id}/lock`, {})).status).toBe(200);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${a!.id}`)).body).toMatchObject({ isMuted: true, locked: true });
    const from = a!.peer.nextCounter;
    const refused = await self.post(`/communications/calls/${callId}/participants/${a!.id}/unmute`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.error.innerError.code).toBe('participantLocked');
    // The agent desktop sees it too: no UnmuteCall while locked, and the Genesys route refuses it.
    const genesysCall = (await self.get(`/api/v2/me/calls/${callId}`)).body.data.call;
    expect(genesysCall).toMatchObject({ mute: 'On', locked: true, capabilities: ['RaiseHand'] });
    expect((await self.post(`/api/v2/me/calls/${callId}`, { operationName: 'UnmuteCall' })).body).toMatchObject({ statusCode: 4 });
    await sleep(500);
    expect(receivedSince(b!.peer, a!.peer, from)).toBe(0);

    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a!.id}/unlock`, {})).status).toBe(200);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${a!.id}`)).body).toMatchObject({ isMuted: true, locked: false });
    expect((await self.post(`/communications/calls/${callId}/participants/${a!.id}/unmute`, {})).status).toBe(200);
    const afterUnmute = a!.peer.nextCounter;
    await waitFor(() => receivedSince(b!.peer, a!.peer, afterUnmute) >= 5, 3000, 'A heard after its own unmute');
  });

  it('shows raised hands in the roster', async () => {
    const callId = await createGroupCall(fixture.api);
    const [a] = await streaming(callId, 1, { userIds: ['hand-a'] });
    const watcher = await RosterClient.connect(fixture.gateway.url, 'json');
    clients.push(watcher);
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));
    const self = apiClient(fixture.gateway.url, tokenFor({ role: 'participant', subject: 'hand-a', call: callId }));
    expect((await self.post(`/communications/calls/${callId}/participants/${a!.id}/raiseHand`)).body).toMatchObject({ handRaised: true });
    await waitFor(() => watcher.messages.some((m) => m.value?.[0]?.resourceData?.[0]?.handRaised === true), 2000, 'hand in the roster');
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${a!.id}/lowerHand`)).body).toMatchObject({ handRaised: false });

    // Over the WebSocket, in both encodings, the answer is the participant as over HTTP.
    const asSelf = await MutegateSocket.connect(fixture.gateway.url, { token: await tokenFor({ role: 'participant', subject: 'hand-a', call: callId }), WebSocket: NodeWebSocket });
    const asApp = await MutegateSocket.connect(fixture.gateway.url, { token: await appToken(), WebSocket: NodeWebSocket, encoding: protoEncoding });
    try {
      expect(await asSelf.participantAction('raiseHand', callId, a!.id)).toMatchObject({ id: a!.id, handRaised: true, isMuted: false });
      expect(await asApp.participantAction('lowerHand', callId, a!.id)).toMatchObject({ id: a!.id, handRaised: false });
    } finally {
      asSelf.close();
      asApp.close();
    }
  });
});
