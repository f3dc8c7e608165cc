import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CometdAgent } from '../../helpers/cometdAgent.js';
import { apiClient, type ApiResponse, sleep, useGateway } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../../helpers/rtpCall.js';
import { TEST_SECRET, tokenFor } from '../../helpers/tokens.js';

/**
 * A token's call scope and subject hold on every transport: Graph HTTP, the WebSocket, the
 * Genesys agent API and CometD. One user ("agent-a") has a leg in call G and in call G2; the
 * attacker holds a token scoped to G (a participant token, or a moderator token) and tries to
 * act on, read or hear G2 through each transport. An application token whose `sub` happens to
 * be a participant's user id is not that participant, and a token without `sub` names no agent.
 */
describe('hostile tokens: call scope and subject on all four transports', () => {
  const fixture = useGateway({ MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'false' });
  let G: string;
  let G2: string;
  let aInG: RtpParticipant;
  let aInG2: RtpParticipant;
  let bobInG: RtpParticipant;
  const tokens = {} as Record<'participantG' | 'moderatorG' | 'appBob' | 'appNoSub' | 'moderatorNoSub', string>;
  const admin = () => apiClient(fixture.gateway.url);
  const open: { close(): void }[] = [];

  /** A token with exactly these claims (no defaults filled in), signed with the test secret. */
  const rawToken = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(createSecretKey(Buffer.from(TEST_SECRET)));

  const isMuted = async (callId: string, participantId: string): Promise<boolean> =>
    (await admin().get(`/communications/calls/${callId}/participants/${participantId}`)).body.isMuted;

  /** Mutes as the application; unmutes as agent-a itself (with a token for that call), as remote unmute is off. */
  const setMuted = async (callId: string, participantId: string, muted: boolean) => {
    const as = muted ? admin() : apiClient(fixture.gateway.url, tokenFor({ role: 'participant', subject: 'agent-a', call: callId }));
    expect((await as.post(`/communications/calls/${callId}/participants/${participantId}/${muted ? 'mute' : 'unmute'}`, {})).status).toBe(200);
  };

  beforeAll(async () => {
    // The default (privacy-safe) policy: applications may not unmute others.
    G = await createGroupCall(admin());
    G2 = await createGroupCall(admin());
    aInG = await joinRtp(admin(), G, { userId: 'agent-a' });
    aInG2 = await joinRtp(admin(), G2, { userId: 'agent-a' });
    bobInG = await joinRtp(admin(), G, { userId: 'bob' });
    tokens.participantG = await tokenFor({ role: 'participant', subject: 'agent-a', call: G });
    tokens.moderatorG = await tokenFor({ role: 'moderator', subject: 'agent-a', calls: [G] });
    tokens.appBob = await tokenFor({ role: 'app', subject: 'bob' });
    tokens.appNoSub = await rawToken({ roles: ['Calls.JoinGroupCall.All', 'Calls.InitiateGroupCall.All'] });
    tokens.moderatorNoSub = await rawToken({ mutegate_role: 'moderator', calls: [G] });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    for (const p of [aInG, aInG2, bobInG]) p?.peer.close();
  });

  const graph = (who: keyof typeof tokens) => apiClient(fixture.gateway.url, tokens[who]);
  const ws = async (who: keyof typeof tokens) => {
    const client = await RosterClient.connect(fixture.gateway.url, 'json', tokens[who]);
    open.push(client);
    return client;
  };
  const wsAnswer = async (client: RosterClient, body: Record<string, unknown>) => client.answer(client.request(body));
  const expectDenied = (res: ApiResponse, innerCode: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.error.innerError.code).toBe(innerCode);
  };

  for (const who of ['participantG', 'moderatorG'] as const) {
    describe(`a ${who === 'participantG' ? 'participant' : 'moderator'} token for G (sub agent-a)`, () => {
      it('cannot read or list G2 (Graph, Genesys, WebSocket)', async () => {
        expectDenied(await graph(who).get(`/communications/calls/${G2}`), 'callNotAllowed');
        expectDenied(await graph(who).get(`/communications/calls/${G2}/participants`), 'callNotAllowed');
        expect((await graph(who).get('/communications/calls')).body.value.map((c: { id: string }) => c.id)).toEqual([G]);

        const mine = await graph(who).get('/api/v2/me/calls');
        expect(mine.body.statusCode).toBe(0);
        expect(mine.body.data.calls.map((c: { id: string }) => c.id)).toEqual([G]);
        const read = await graph(who).get(`/api/v2/me/calls/${G2}`);
        expect(read.status).toBe(403);
        expect(read.body).toMatchObject({ statusCode: 2, statusMessage: expect.stringContaining(G2) });

        const client = await ws(who);
        expect(await wsAnswer(client, { type: 'subscribe', callId: G2 })).toMatchObject({ type: 'error', status: 403 });
      });

      it('cannot mute agent-a in G2 (Graph, WebSocket, Genesys): it stays unmuted', async () => {
        await setMuted(G2, aInG2.id, false);
        expectDenied(await graph(who).post(`/communications/calls/${G2}/participants/${aInG2.id}/mute`, {}), 'callNotAllowed');
        const client = await ws(who);
        expect(await wsAnswer(client, { type: 'mute', callId: G2, participantId: aInG2.id })).toMatchObject({ type: 'error', status: 403 });
        const genesys = await graph(who).post(`/api/v2/me/calls/${G2}`, { operationName: 'MuteCall' });
        expect(genesys.status).toBe(403);
        expect(genesys.body.statusCode).toBe(2);
        expect(await isMuted(G2, aInG2.id)).toBe(false);
      });

      it('cannot unmute agent-a in G2 (Graph, WebSocket, Genesys): it stays muted', async () => {
        await setMuted(G2, aInG2.id, true);
        expectDenied(await graph(who).post(`/communications/calls/${G2}/participants/${aInG2.id}/unmute`, {}), 'callNotAllowed');
        const client = await ws(who);
        expect(await wsAnswer(client, { type: 'unmute', callId: G2, participantId: aInG2.id })).toMatchObject({ type: 'error', status: 403 });
        const genesys = await graph(who).post(`/api/v2/me/calls/${G2}`, { operationName: 'UnmuteCall' });
        expect(genesys.status).toBe(403);
        expect(await isMuted(G2, aInG2.id)).toBe(true);
      });

      it('acts on its own leg in G on every transport', async () => {
        await setMuted(G, aInG.id, true);
        expect((await graph(who).post(`/communications/calls/${G}/participants/${aInG.id}/unmute`, {})).status).toBe(200);
        expect(await isMuted(G, aInG.id)).toBe(false);
        const client = await ws(who);
        expect(await wsAnswer(client, { type: 'mute', callId: G, participantId: aInG.id })).toMatchObject({ type: 'response', status: 200 });
        expect(await isMuted(G, aInG.id)).toBe(true);
        expect((await graph(who).post(`/api/v2/me/calls/${G}`, { operationName: 'UnmuteCall' })).body).toEqual({ statusCode: 0 });
        expect(await isMuted(G, aInG.id)).toBe(false);
      });

      it("hears only G on CometD, although agent-a's G2 leg changes too", async () => {
        const agent = new CometdAgent(fixture.gateway.url, tokens[who]);
        open.push({ close: () => agent.client.disconnect() });
        expect((await agent.handshake()).successful).toBe(true);
        expect((await agent.subscribe()).successful).toBe(true);
        await setMuted(G2, aInG2.id, false);
        await setMuted(G2, aInG2.id, true);
        await setMuted(G, aInG.id, true);
        await agent.waitForMessages(1);
        await sleep(300); // anything about G2 would have arrived by now
        const calls = agent.messages.map((m) => (m.data as { call: { id: string } }).call.id);
        expect(calls.length).toBeGreaterThan(0);
        expect(new Set(calls)).toEqual(new Set([G]));
        await setMuted(G, aInG.id, false);
      });
    });
  }

  it('a token for G cannot tell which other calls or participants exist: the same 403 for real and made-up ids', async () => {
    const made = '00000000-0000-4000-8000-000000000000';
    for (const who of ['participantG', 'moderatorG'] as const) {
      for (const path of [
        `/communications/calls/${G2}`,
        `/communications/calls/${made}`,
        `/communications/calls/${G2}/participants/${aInG2.id}/mute`,
        `/communications/calls/${G2}/participants/${made}/mute`,
        `/communications/calls/${made}/participants/${made}/lock`,
      ]) {
        const res = path.endsWith('mute') || path.endsWith('lock') ? await graph(who).post(path, {}) : await graph(who).get(path);
        expect(res.status, `${who} ${path}`).toBe(403);
        expect(res.body.error.innerError.code).toBe('callNotAllowed');
      }
    }
  });

  it('an application token whose sub is "bob" is not bob: remote unmute stays off', async () => {
    await setMuted(G, bobInG.id, true);
    expectDenied(await graph('appBob').post(`/communications/calls/${G}/participants/${bobInG.id}/unmute`, {}), 'remoteUnmuteNotAllowed');
    const client = await ws('appBob');
    expect(await wsAnswer(client, { type: 'unmute', callId: G, participantId: bobInG.id })).toMatchObject({ type: 'error', status: 403 });
    // Nor is it an agent on the Genesys API or CometD.
    const genesys = await graph('appBob').post(`/api/v2/me/calls/${G}`, { operationName: 'UnmuteCall' });
    expect(genesys.status).toBe(403);
    expect(genesys.body.statusCode).toBe(2);
    expect((await graph('appBob').get('/api/v2/me/calls')).status).toBe(403);
    const agent = new CometdAgent(fixture.gateway.url, tokens.appBob);
    open.push({ close: () => agent.client.disconnect() });
    const handshake = await agent.handshake();
    expect(handshake.successful).toBe(false);
    expect(String(handshake.error)).toMatch(/^403::/);
    expect(await isMuted(G, bobInG.id)).toBe(true);
  });

  it('a token without "sub" names no agent: Genesys 403 and CometD handshake refused', async () => {
    for (const who of ['appNoSub', 'moderatorNoSub'] as const) {
      const list = await graph(who).get('/api/v2/me/calls');
      expect(list.status, who).toBe(403);
      expect(list.body.statusCode).toBe(2);
      expect((await graph(who).post(`/api/v2/me/calls/${G}`, { operationName: 'MuteCall' })).status, who).toBe(403);
      const agent = new CometdAgent(fixture.gateway.url, tokens[who]);
      open.push({ close: () => agent.client.disconnect() });
      const handshake = await agent.handshake();
      expect(handshake.successful, who).toBe(false);
      expect(String(handshake.error)).toMatch(/^403::/);
    }
    expect(await isMuted(G, aInG.id)).toBe(false);
  });
});
