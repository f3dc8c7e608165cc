import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/api/auth/devTokens.js';
import { apiClient, useGateway } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { joinRtp, type RtpParticipant } from '../helpers/rtpCall.js';
import { appToken, tokenFor } from '../helpers/tokens.js';

type Who = 'none' | 'expired' | 'badSignature' | 'self' | 'other' | 'moderator' | 'app';
const WHO: Who[] = ['none', 'expired', 'badSignature', 'self', 'other', 'moderator', 'app'];

/**
 * Every mute-related route × every kind of caller, against the documented status, on a gateway
 * with the default (privacy-safe) policy: nobody unmutes someone else.
 */
describe('authorization matrix (real gateway, real tokens)', () => {
  // The matrix sends one identity's requests about itself far faster than a person would: the
  // rate limit of those (limits.ownRequestsPerSecond, tested in hostile/ownRequestFlood) is raised.
  const fixture = useGateway({ MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'false', MUTEGATE_LIMITS_OWN_REQUESTS_PER_SECOND: '100000' });
  let callId: string;
  let p: RtpParticipant; // the target, user "p"
  let q: RtpParticipant; // another participant, user "q"
  const tokens = {} as Record<Who, string | null>;
  const admin = () => apiClient(fixture.gateway.url);

  beforeAll(async () => {
    const created = await admin().post('/communications/calls', {
      subject: 'matrix',
      source: { identity: { application: { id: 'matrix-app' } } },
      media: { kind: 'rtp', payloadType: 100, ssrc: 9999, receive: { ip: '127.0.0.1', port: 9999 } },
    });
    callId = created.body.id;
    p = await joinRtp(admin(), callId, { userId: 'p' });
    q = await joinRtp(admin(), callId, { userId: 'q' });
    tokens.none = null;
    tokens.expired = await tokenFor({ role: 'participant', subject: 'p', call: callId }, { expiresIn: Math.floor(Date.now() / 1000) - 600 });
    tokens.badSignature = await mintDevToken('a-different-secret-0123456789', { role: 'app' });
    tokens.self = await tokenFor({ role: 'participant', subject: 'p', call: callId });
    tokens.other = await tokenFor({ role: 'participant', subject: 'q', call: callId });
    tokens.moderator = await tokenFor({ role: 'moderator', subject: 'mod', calls: [callId] });
    tokens.app = await appToken();
  });
  afterAll(async () => {
    p?.peer.close();
    q?.peer.close();
  });

  /** Puts P (and the app's participant) into a known state before each cell, as the application and as P. */
  async function setP(state: { muted?: boolean; locked?: boolean; deafened?: boolean; hand?: boolean }) {
    const asApp = admin();
    const asSelf = apiClient(fixture.gateway.url, tokens.self);
    const base = `/communications/calls/${callId}/participants/${p.id}`;
    await asApp.post(`${base}/unlock`, {});
    if (state.muted === false) expect((await asSelf.post(`${base}/unmute`, {})).status).toBe(200);
    if (state.muted) expect((await asApp.post(`${base}/mute`, {})).status).toBe(200);
    if (state.locked) expect((await asApp.post(`${base}/lock`, {})).status).toBe(200);
    if (state.deafened !== undefined) expect((await asApp.post(`${base}/${state.deafened ? 'deafen' : 'undeafen'}`, {})).status).toBe(200);
    if (state.hand !== undefined) expect((await asApp.post(`${base}/${state.hand ? 'raiseHand' : 'lowerHand'}`, {})).status).toBe(200);
  }

  const participant = (action: string) => `/communications/calls/${callId}/participants/${p.id}/${action}`;
  const call = (action: string) => `/communications/calls/${callId}/${action}`;

  const cases: { route: string; path: () => string; before: Parameters<typeof setP>[0]; expected: Record<Who, number> }[] = [
    { route: 'mute participant', path: () => participant('mute'), before: { muted: false }, expected: { none: 401, expired: 401, badSignature: 401, self: 200, other: 403, moderator: 200, app: 200 } },
    { route: 'unmute participant', path: () => participant('unmute'), before: { muted: true }, expected: { none: 401, expired: 401, badSignature: 401, self: 200, other: 403, moderator: 403, app: 403 } },
    { route: 'unmute while locked', path: () => participant('unmute'), before: { muted: true, locked: true }, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 403, app: 403 } },
    { route: 'requestUnmute', path: () => participant('requestUnmute'), before: { muted: true }, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 200, app: 200 } },
    { route: 'lock', path: () => participant('lock'), before: { muted: false }, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 200, app: 200 } },
    { route: 'unlock', path: () => participant('unlock'), before: { muted: true, locked: true }, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 200, app: 200 } },
    { route: 'deafen', path: () => participant('deafen'), before: { deafened: false }, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 200, app: 200 } },
    { route: 'undeafen', path: () => participant('undeafen'), before: { deafened: true }, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 200, app: 200 } },
    { route: 'raiseHand', path: () => participant('raiseHand'), before: { hand: false }, expected: { none: 401, expired: 401, badSignature: 401, self: 200, other: 403, moderator: 200, app: 200 } },
    { route: 'lowerHand', path: () => participant('lowerHand'), before: { hand: true }, expected: { none: 401, expired: 401, badSignature: 401, self: 200, other: 403, moderator: 200, app: 200 } },
    { route: 'muteAll', path: () => call('muteAll'), before: { muted: false }, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 200, app: 200 } },
    { route: 'app self-mute (/calls/{id}/mute)', path: () => call('mute'), before: {}, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 403, app: 200 } },
    { route: 'app self-unmute (/calls/{id}/unmute)', path: () => call('unmute'), before: {}, expected: { none: 401, expired: 401, badSignature: 401, self: 403, other: 403, moderator: 403, app: 200 } },
  ];

  for (const c of cases) {
    it(`${c.route}: ${WHO.map((w) => `${w} ${c.expected[w]}`).join(', ')}`, async () => {
      for (const who of WHO) {
        await setP(c.before);
        const res = await apiClient(fixture.gateway.url, tokens[who]).post(c.path(), {});
        expect(res.status, `${c.route} as ${who}: ${JSON.stringify(res.body)}`).toBe(c.expected[who]);
        // What each refusal must also say (the status was just asserted to be the expected one).
        if (c.expected[who] === 401) {
          expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="mutegate"/);
          expect(res.body.error).toMatchObject({ code: 'InvalidAuthenticationToken', innerError: expect.objectContaining({ code: expect.stringMatching(/missingToken|expiredToken|invalidToken/) }) });
        }
        if (c.expected[who] === 403) expect(res.body.error).toMatchObject({ code: 'accessDenied', innerError: expect.objectContaining({ code: expect.any(String) }) });
      }
    });
  }

  it('tells the reason of each 401 and 403', async () => {
    const as = (who: Who) => apiClient(fixture.gateway.url, tokens[who]);
    expect((await as('none').post(participant('mute'), {})).body.error.innerError.code).toBe('missingToken');
    expect((await as('expired').post(participant('mute'), {})).body.error.innerError.code).toBe('expiredToken');
    expect((await as('badSignature').post(participant('mute'), {})).body.error.innerError.code).toBe('invalidToken');
    await setP({ muted: true });
    expect((await as('moderator').post(participant('unmute'), {})).body.error.innerError.code).toBe('remoteUnmuteNotAllowed');
    expect((await as('other').post(participant('mute'), {})).body.error.innerError.code).toBe('notYourParticipant');
    await setP({ muted: true, locked: true });
    expect((await as('self').post(participant('unmute'), {})).body.error.innerError.code).toBe('participantLocked');
    // A token for another call sees nothing of this one.
    const elsewhere = await tokenFor({ role: 'moderator', subject: 'mod2', calls: ['some-other-call'] });
    expect((await apiClient(fixture.gateway.url, elsewhere).get(`/communications/calls/${callId}`)).status).toBe(403);
    // Public: health, metrics (configured public), the page.
    for (const path of ['/healthz', '/metrics', '/']) expect((await as('none').get(path)).status).not.toBe(401);
  });

  it('applies the same rules on the WebSocket: close 4401 for bad tokens, 403 errors for bad rights', async () => {
    for (const who of ['none', 'expired', 'badSignature'] as const) {
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
        const ws = new WebSocket(fixture.gateway.url.replace('http', 'ws') + '/ws', 'mutegate.v1.json', tokens[who] ? { headers: { authorization: `Bearer ${tokens[who]}` } } : {});
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.on('error', () => undefined);
      });
      expect(closed.code, who).toBe(4401);
      expect(closed.reason).toMatch(/^unauthenticated: /);
    }
    await setP({ muted: false });
    const other = await RosterClient.connect(fixture.gateway.url, 'json', tokens.other);
    const denied = await other.answer(other.request({ type: 'mute', callId, participantId: p.id }));
    expect(denied).toMatchObject({ type: 'error', status: 403, error: { innerError: expect.objectContaining({ code: 'notYourParticipant' }) } });
    const self = await RosterClient.connect(fixture.gateway.url, 'json', tokens.self);
    expect((await self.answer(self.request({ type: 'mute', callId, participantId: p.id }))).status).toBe(200);
    // A participant token cannot join as someone else over signaling.
    const caps = (await self.answer(self.request({ type: 'getRouterRtpCapabilities', callId }))).body.rtpCapabilities;
    const impostor = await self.answer(self.request({ type: 'join', callId, userId: 'q', rtpCapabilities: caps }));
    expect(impostor).toMatchObject({ status: 403, error: { innerError: expect.objectContaining({ code: 'notYourIdentity' }) } });
    // Unmute requests reach the asked participant's own connection only.
    const moderator = await RosterClient.connect(fixture.gateway.url, 'json', tokens.moderator);
    expect((await moderator.answer(moderator.request({ type: 'requestUnmute', callId, participantId: p.id }))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(self.messages.filter((m) => m.type === 'unmuteRequested')).toEqual([expect.objectContaining({ participantId: p.id })]);
    expect(other.messages.filter((m) => m.type === 'unmuteRequested')).toEqual([]);
    expect((await admin().get(`/communications/calls/${callId}/participants/${p.id}`)).body.isMuted).toBe(true); // still muted
    for (const c of [other, self, moderator]) c.close();
  });

  it('keeps the Genesys agent to its own leg', async () => {
    await setP({ muted: false });
    await apiClient(fixture.gateway.url, tokens.other).post(`/communications/calls/${callId}/participants/${q.id}/unmute`, {}); // mute all got Q too
    const genesys = (token: string | null) => apiClient(fixture.gateway.url, token);
    expect((await genesys(null).post(`/api/v2/me/calls/${callId}`, { operationName: 'MuteCall' })).body).toMatchObject({ statusCode: 2 });
    expect((await genesys(tokens.expired).post(`/api/v2/me/calls/${callId}`, { operationName: 'MuteCall' })).status).toBe(401);
    const mine = await genesys(tokens.self).post(`/api/v2/me/calls/${callId}`, { operationName: 'MuteCall' });
    expect(mine.body).toEqual({ statusCode: 0 });
    expect((await admin().get(`/communications/calls/${callId}/participants/${p.id}`)).body.isMuted).toBe(true);
    expect((await admin().get(`/communications/calls/${callId}/participants/${q.id}`)).body.isMuted).toBe(false);
    // The moderator is not in the call: it has no leg of its own here.
    expect((await genesys(tokens.moderator).post(`/api/v2/me/calls/${callId}`, { operationName: 'MuteCall' })).status).toBe(404);
  });
});
