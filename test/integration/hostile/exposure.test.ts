import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CometdAgent } from '../../helpers/cometdAgent.js';
import { apiClient, useGateway } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * Least exposure: a participant never learns another participant's transport addresses, ports
 * or SRTP keys (what it would need to inject into, or listen to, someone else's leg), over HTTP,
 * the WebSocket or the agent APIs. Its own leg it sees in full; so does the application.
 */
describe('hostile participants: no one else\'s addresses, ports or keys', () => {
  const fixture = useGateway();
  let callId: string;
  let alice: RtpParticipant; // plain RTP, receive address given by the application
  let bob: RtpParticipant; // SRTP, latching
  let mallory: RtpParticipant; // SRTP, the curious one
  let secrets: string[];
  const admin = () => apiClient(fixture.gateway.url);

  beforeAll(async () => {
    // The backend's webhook address may carry a secret; nothing listens on that port (deliveries fail locally).
    callId = await createGroupCall(admin(), { callbackUri: 'http://127.0.0.1:9/hooks?secret=s3cr3t-token', tenantId: 'tenant-x' });
    alice = await joinRtp(admin(), callId, { userId: 'alice' });
    bob = await joinRtp(admin(), callId, { userId: 'bob', srtp: 'AES_CM_128_HMAC_SHA1_80' });
    mallory = await joinRtp(admin(), callId, { userId: 'mallory', srtp: 'AEAD_AES_128_GCM' });
    // Latch bob's leg, so that its address is known to the gateway too.
    bob.startStreaming();
    const asApp = async () => (await admin().get(`/communications/calls/${callId}/participants/${bob.id}`)).body.media.receive;
    for (let i = 0; i < 100 && !(await asApp()); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await asApp()).toEqual(bob.peer.address);
    // What an attacker wants: where others send and receive, and their keys.
    secrets = [
      `"port":${alice.send.port}`,
      `"port":${alice.peer.address.port}`,
      `"port":${bob.send.port}`,
      `"port":${bob.peer.address.port}`,
      bob.srtp?.sendKeyBase64 ?? 'missing',
      bob.srtp?.receiveKeyBase64 ?? 'missing',
    ];
  });
  afterAll(async () => {
    for (const p of [alice, bob, mallory]) p?.peer.close();
  });

  /** The secrets found in a serialized reply, and any transport address at all ("port" fields). */
  const leaks = (text: string) => [...secrets.filter((s) => text.includes(s)), ...(/"port"\s*:/.test(text) ? ['a "port" field'] : [])];

  it('a participant sees its own media and only the roster view of the others (HTTP)', async () => {
    const asMallory = apiClient(fixture.gateway.url, await tokenFor({ role: 'participant', subject: 'mallory', call: callId }));
    const list = await asMallory.get(`/communications/calls/${callId}/participants`);
    expect(list.status).toBe(200);
    const byId = new Map<string, Record<string, unknown>>(list.body.value.map((p: { id: string }) => [p.id, p]));
    expect(byId.get(mallory.id)?.media).toMatchObject({ send: mallory.send, srtp: { cryptoSuite: 'AEAD_AES_128_GCM' } });
    for (const other of [alice, bob]) {
      const entry = byId.get(other.id);
      expect(entry).toMatchObject({ id: other.id, isMuted: false });
      expect(entry).not.toHaveProperty('media');
      const single = await asMallory.get(`/communications/calls/${callId}/participants/${other.id}`);
      expect(single.status).toBe(200);
      expect(single.body).not.toHaveProperty('media');
    }
    const others = list.body.value.filter((p: { id: string }) => p.id !== mallory.id);
    expect(leaks(JSON.stringify(others))).toEqual([]);
  });

  it("the call's backend settings (callbackUri with its secret, tenantId) are the application's only", async () => {
    const asMallory = apiClient(fixture.gateway.url, await tokenFor({ role: 'participant', subject: 'mallory', call: callId }));
    const asModerator = apiClient(fixture.gateway.url, await tokenFor({ role: 'moderator', subject: 'mod', calls: [callId] }));
    for (const as of [asMallory, asModerator]) {
      const one = await as.get(`/communications/calls/${callId}`);
      expect(one.status).toBe(200);
      const all = await as.get('/communications/calls');
      for (const text of [JSON.stringify(one.body), JSON.stringify(all.body)]) {
        expect(text).not.toContain('s3cr3t-token');
        expect(text).not.toContain('tenant-x');
      }
    }
    expect((await admin().get(`/communications/calls/${callId}`)).body).toMatchObject({ callbackUri: 'http://127.0.0.1:9/hooks?secret=s3cr3t-token', tenantId: 'tenant-x' });
  });

  it('a moderator moderates without seeing transports either', async () => {
    const asModerator = apiClient(fixture.gateway.url, await tokenFor({ role: 'moderator', subject: 'mod', calls: [callId] }));
    const list = await asModerator.get(`/communications/calls/${callId}/participants`);
    expect(list.body.value.every((p: object) => !('media' in p))).toBe(true);
    expect(leaks(JSON.stringify(list.body))).toEqual([]);
  });

  it('the application sees every leg in full', async () => {
    const list = await admin().get(`/communications/calls/${callId}/participants`);
    expect(leaks(JSON.stringify(list.body))).toEqual([...secrets, 'a "port" field']);
  });

  it('nothing of it travels over the WebSocket (JSON and protobuf) or the agent APIs', async () => {
    const token = await tokenFor({ role: 'participant', subject: 'mallory', call: callId });
    for (const encoding of ['json', 'proto'] as const) {
      const client = await RosterClient.connect(fixture.gateway.url, encoding, token);
      await client.answer(client.request({ type: 'subscribe', callId }));
      // A change while subscribed: a delta too.
      await admin().post(`/communications/calls/${callId}/participants/${alice.id}/mute`, {});
      await admin().post(`/communications/calls/${callId}/participants/${alice.id}/unmute`, {});
      await new Promise((r) => setTimeout(r, 200));
      expect(client.deltas().length, encoding).toBeGreaterThanOrEqual(2);
      expect(leaks(JSON.stringify(client.messages)), encoding).toEqual([]);
      expect(JSON.stringify(client.messages), encoding).not.toContain('s3cr3t-token');
      client.close();
    }
    const asMallory = apiClient(fixture.gateway.url, token);
    expect(leaks(JSON.stringify((await asMallory.get('/api/v2/me/calls')).body))).toEqual([]);
    const agent = new CometdAgent(fixture.gateway.url, token);
    await agent.handshake();
    await agent.subscribe();
    await admin().post(`/communications/calls/${callId}/participants/${bob.id}/mute`, {});
    await agent.waitForMessages(1);
    expect(leaks(JSON.stringify(agent.messages))).toEqual([]);
    await agent.disconnect();
  });
});
