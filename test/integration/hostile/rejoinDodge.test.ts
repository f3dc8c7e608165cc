import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, sleep, startTestGateway, useGateway } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * A participant that rejoins over and over gets a new participant id each time, so a moderator's
 * roster is always one id behind. Actions are about people: a mute, lock or removal aimed at a
 * leg that a rejoin replaced acts on the same person's current leg, so rejoining dodges nothing.
 * (limits.ownRequestsPerSecond would slow the rejoins down to 10 per second, and
 * limits.ownMediaChangesPerMinute to one every 2 s after a burst of 10; both are raised here so
 * that the rule holds however fast the legs change, e.g. for a backend's legs or several people.)
 */
describe('hostile participants: rejoining does not dodge a moderator', () => {
  const fixture = useGateway({
    MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'false',
    MUTEGATE_LIMITS_OWN_REQUESTS_PER_SECOND: '100000',
    MUTEGATE_LIMITS_OWN_MEDIA_CHANGES_PER_MINUTE: '6000000',
  });
  let callId: string;
  let listener: RtpParticipant;
  let malloryToken: string;
  const admin = () => apiClient(fixture.gateway.url);
  const asMallory = () => apiClient(fixture.gateway.url, malloryToken);
  const moderator = async () => apiClient(fixture.gateway.url, await tokenFor({ role: 'moderator', subject: 'mod', calls: [callId] }));
  const mallorysLegs = async () =>
    (await admin().get(`/communications/calls/${callId}/participants`)).body.value.filter((p: { info: { identity: { user?: { id: string } } } }) => p.info.identity.user?.id === 'mallory');

  beforeAll(async () => {
    callId = await createGroupCall(admin());
    malloryToken = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    listener = await joinRtp(admin(), callId, { userId: 'listener' });
  });
  afterAll(async () => {
    listener?.peer.close();
  });

  it('a lock aimed at a replaced leg locks the current one, which then stays silent', async () => {
    const first = await joinRtp(asMallory(), callId, { userId: 'mallory', srtp: 'AES_CM_128_HMAC_SHA1_80' });
    const second = await joinRtp(asMallory(), callId, { userId: 'mallory', srtp: 'AES_CM_128_HMAC_SHA1_80', peer: first.peer });
    expect(second.id).not.toBe(first.id);
    const lock = await (await moderator()).post(`/communications/calls/${callId}/participants/${first.id}/lock`, {});
    expect(lock.status, JSON.stringify(lock.body)).toBe(200);
    expect(await mallorysLegs()).toEqual([expect.objectContaining({ id: second.id, isMuted: true, locked: true })]);
    const from = second.peer.nextCounter;
    second.startStreaming();
    await sleep(500);
    second.peer.stop();
    expect(second.peer.nextCounter - from).toBeGreaterThan(10);
    expect(receivedSince(listener.peer, second.peer, from)).toBe(0);
    // Reads stay exact: the replaced leg itself is gone.
    expect((await admin().get(`/communications/calls/${callId}/participants/${first.id}`)).status).toBe(404);
    // A removal aimed at the replaced leg removes the person's current leg.
    expect((await (await moderator()).delete(`/communications/calls/${callId}/participants/${first.id}`)).status).toBe(204);
    expect(await mallorysLegs()).toEqual([]);
    first.peer.close();
  });

  it('rejoining in a tight loop while a moderator locks the id it last saw: every lock lands', async () => {
    await admin().post(`/communications/calls/${callId}/participants/${(await joinRtp(asMallory(), callId, { userId: 'mallory', srtp: 'AEAD_AES_128_GCM' })).id}/unlock`, {});
    const asModerator = await moderator();
    let rejoining = true;
    const peers: RtpParticipant[] = [];
    const rejoinLoop = (async () => {
      for (let i = 0; i < 40 && rejoining; i++) peers.push(await joinRtp(asMallory(), callId, { userId: 'mallory', srtp: 'AEAD_AES_128_GCM' }));
    })();
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const seen = (await mallorysLegs())[0];
      if (!seen) continue;
      await asModerator.post(`/communications/calls/${callId}/participants/${seen.id}/unlock`, {});
      statuses.push((await asModerator.post(`/communications/calls/${callId}/participants/${seen.id}/lock`, {})).status);
    }
    rejoining = false;
    await rejoinLoop;
    for (const p of peers) p.peer.close();
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.every((s) => s === 200), `lock statuses: ${statuses.join(',')}`).toBe(true);
    expect(await mallorysLegs()).toEqual([expect.objectContaining({ isMuted: true, locked: true })]);
    // And she cannot unmute herself out of it, under any of her ids.
    const unmute = await asMallory().post(`/communications/calls/${callId}/participants/${peers[0]?.id}/unmute`, {});
    expect(unmute.status).toBe(403);
    expect(unmute.body.error.innerError.code).toBe('participantLocked');
  });

  it('a retried removal of a removed leg is a 404: it does not remove the person let back in', async () => {
    const asModerator = await moderator();
    const dan = await joinRtp(admin(), callId, { userId: 'dan' });
    expect((await asModerator.delete(`/communications/calls/${callId}/participants/${dan.id}`)).status).toBe(204);
    const danAgain = await joinRtp(admin(), callId, { userId: 'dan' });
    const retried = await asModerator.delete(`/communications/calls/${callId}/participants/${dan.id}`);
    expect(retried.status).toBe(404);
    expect((await admin().get(`/communications/calls/${callId}/participants/${danAgain.id}`)).status).toBe(200);
    // A mute through the old id still reaches the person: the mute belongs to the identity.
    expect((await asModerator.post(`/communications/calls/${callId}/participants/${dan.id}/mute`, {})).status).toBe(200);
    expect((await admin().get(`/communications/calls/${callId}/participants/${danAgain.id}`)).body.isMuted).toBe(true);
    for (const p of [dan, danAgain]) p.peer.close();
  });

  it("muteAll's exemptions follow the person too", async () => {
    const eve = await joinRtp(admin(), callId, { userId: 'eve' });
    const eveAgain = await joinRtp(admin(), callId, { userId: 'eve', peer: eve.peer });
    const res = await (await moderator()).post(`/communications/calls/${callId}/muteAll`, { exceptParticipantIds: [eve.id] });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { participantId: string }) => r.participantId)).not.toContain(eveAgain.id);
    expect((await admin().get(`/communications/calls/${callId}/participants/${eveAgain.id}`)).body.isMuted).toBe(false);
    eve.peer.close();
  });

  it('a call takes at most limits.participantsPerCall people; rejoins always fit', async () => {
    const small = await startTestGateway({ MUTEGATE_LIMITS_PARTICIPANTS_PER_CALL: '3' });
    try {
      const api = apiClient(small.url);
      const call = await createGroupCall(api);
      const legs = await Promise.all(['a', 'b', 'c'].map((userId) => joinRtp(api, call, { userId })));
      const full = await api.post(`/communications/calls/${call}/participants`, {
        info: { identity: { user: { id: 'd' } } },
        media: { kind: 'rtp', payloadType: 100, ssrc: 77, receive: { ip: '127.0.0.1', port: 40000 } },
      });
      expect(full.status).toBe(409);
      expect(full.body.error.innerError.code).toBe('callFull');
      const rejoined = await joinRtp(api, call, { userId: 'a' });
      expect((await api.get(`/communications/calls/${call}/participants`)).body.value.length).toBe(3);
      for (const leg of [...legs, rejoined]) leg.peer.close();
    } finally {
      await small.close();
    }
  });
});
