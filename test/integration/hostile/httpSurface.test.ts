import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../../src/api/auth/devTokens.js';
import { apiClient, type ApiResponse, startTestGateway, useGateway } from '../../helpers/gateway.js';
import { rawHttp } from '../../helpers/rawHttp.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor, userToken } from '../../helpers/tokens.js';

/**
 * The HTTP surface as an attacker without a (valid) token sees it. Authentication belongs to the
 * route a request is routed to, so no spelling of a protected path gets around it, and a refused
 * request tells nothing about the resources it names.
 */
describe('hostile HTTP surface: authentication by route, not by URL spelling (real gateway)', () => {
  const fixture = useGateway({ MUTEGATE_AUTH_PUBLIC_METRICS: 'false' });
  let callId: string;
  let p: RtpParticipant;
  const anonymous = () => apiClient(fixture.gateway.url, null);

  beforeAll(async () => {
    callId = await createGroupCall(apiClient(fixture.gateway.url));
    p = await joinRtp(apiClient(fixture.gateway.url), callId, { userId: 'agent-p' });
  });
  afterAll(async () => {
    p?.peer.close();
  });

  function expectGraph401(res: ApiResponse, what: string) {
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(401);
    expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer /);
    expect(res.headers.get('request-id'), what).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body, what).toEqual({
      error: {
        code: 'InvalidAuthenticationToken',
        message: expect.any(String),
        innerError: { code: 'missingToken', 'request-id': res.headers.get('request-id'), date: expect.any(String) },
      },
    });
  }

  /** What a refusal says, without what differs for every request (ids, date). */
  const refusal = (res: ApiResponse) => ({ status: res.status, code: res.body?.error?.code, innerCode: res.body?.error?.innerError?.code, message: res.body?.error?.message });

  it('refuses every percent-encoded spelling of a protected path without a token (401, never 500)', async () => {
    const paths = [
      ['GET', '/%63ommunications/calls'],
      ['GET', '/communications/%63alls'],
      ['GET', '/%63%6F%6D%6Dunications/%63alls'],
      ['GET', `/communications/calls/${callId}/%70articipants`],
      ['GET', `/%63ommunications/calls/${callId}/participants/${p.id}`],
      ['POST', `/%63ommunications/calls/${callId}/participants/${p.id}/mute`],
      ['DELETE', `/%63ommunications/calls/${callId}`],
    ] as const;
    for (const [method, path] of paths) expectGraph401(await anonymous().request(method, path, method === 'POST' ? {} : undefined), `${method} ${path}`);
    // The call is untouched.
    const call = await apiClient(fixture.gateway.url).get(`/communications/calls/${callId}`);
    expect(call.status).toBe(200);
    expect((await apiClient(fixture.gateway.url).get(`/communications/calls/${callId}/participants/${p.id}`)).body.isMuted).toBe(false);
  });

  it('the encoded spelling is the same route: with a token it is served', async () => {
    const res = await apiClient(fixture.gateway.url).get('/%63ommunications/calls');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.value.map((c: { id: string }) => c.id)).toContain(callId);
  });

  it('answers an existing and an unknown call alike without a token (no probing)', async () => {
    const existing = await anonymous().post(`/%63ommunications/calls/${callId}/participants/${p.id}/lock`, {});
    const unknown = await anonymous().post(`/%63ommunications/calls/${randomUUID()}/participants/${randomUUID()}/lock`, {});
    expectGraph401(existing, 'existing call');
    expectGraph401(unknown, 'unknown call');
    expect(refusal(existing)).toEqual(refusal(unknown));
    // A bad signature too: refused before the route looks anything up.
    const forged = await mintDevToken('not-the-gateway-secret-0123456789', { role: 'app' });
    const forgedExisting = await apiClient(fixture.gateway.url, forged).post(`/communications/calls/${callId}/participants/${p.id}/lock`, {});
    const forgedUnknown = await apiClient(fixture.gateway.url, forged).post(`/communications/calls/${randomUUID()}/participants/${randomUUID()}/lock`, {});
    expect(forgedExisting.status).toBe(401);
    expect(refusal(forgedExisting)).toEqual(refusal(forgedUnknown));
    expect((await apiClient(fixture.gateway.url).get(`/communications/calls/${callId}/participants/${p.id}`)).body.isMuted).toBe(false);
  });

  it('answers authentication failures on the Genesys API in the Genesys shape (statusCode 2)', async () => {
    const expired = await tokenFor({ role: 'moderator', subject: 'agent-p', calls: '*' }, { expiresIn: Math.floor(Date.now() / 1000) - 600 });
    const forged = await mintDevToken('not-the-gateway-secret-0123456789', { role: 'moderator', subject: 'agent-p', calls: '*' });
    const requests: [string, string, unknown][] = [
      ['GET', '/api/v2/me/calls', undefined],
      ['GET', '/api/v2/me/%63alls', undefined],
      ['GET', `/api/v2/me/calls/${callId}`, undefined],
      ['POST', `/api/v2/me/calls/${callId}`, { operationName: 'MuteCall' }],
      ['POST', `/api/v2/me/calls/${randomUUID()}`, { operationName: 'MuteCall' }],
    ];
    for (const token of [null, expired, forged]) {
      for (const [method, path, body] of requests) {
        const res = await apiClient(fixture.gateway.url, token).request(method, path, body);
        const what = `${method} ${path} with ${token === null ? 'no' : token === expired ? 'an expired' : 'a forged'} token`;
        expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(401);
        expect(res.body, what).toEqual({ statusCode: 2, statusMessage: expect.any(String) });
        expect(res.headers.get('www-authenticate'), what).toMatch(/^Bearer /);
        expect(res.headers.get('request-id'), what).toMatch(/^[0-9a-f-]{36}$/);
      }
    }
    // The agent's own token is served, in the same shape.
    const mine = await apiClient(fixture.gateway.url, await userToken('agent-p')).get('/api/v2/me/calls');
    expect(mine.status).toBe(200);
    expect(mine.body.statusCode).toBe(0);
    expect((await apiClient(fixture.gateway.url).get(`/communications/calls/${callId}/participants/${p.id}`)).body.isMuted).toBe(false);
  });

  it('keeps /healthz and the page public, and /metrics behind a token unless configured public', async () => {
    const health = await anonymous().get('/healthz');
    expect(health.status).toBe(200);
    expect(health.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect([200, 503]).toContain((await anonymous().get('/')).status); // 503: the bundle is not built
    expectGraph401(await anonymous().get('/metrics'), '/metrics');
    expectGraph401(await anonymous().get('/%6Detrics'), '/%6Detrics');
    const metrics = await apiClient(fixture.gateway.url).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('# TYPE');
    // Gateway-wide figures (every call's counts, worker pids): for the application only, not for
    // a participant's or a moderator's token.
    for (const token of [tokenFor({ role: 'participant', subject: 'peeker', call: 'any-call' }), tokenFor({ role: 'moderator', subject: 'mod', calls: '*' })]) {
      const refused = await apiClient(fixture.gateway.url, token).get('/metrics');
      expect(refused.status).toBe(403);
      expect(refused.body.error.innerError.code).toBe('appRoleRequired');
    }
  });

  it('answers unknown paths 404 in Graph shape with request-id, with or without a token', async () => {
    for (const client of [anonymous(), apiClient(fixture.gateway.url)]) {
      const res = await client.get('/communications/nothing-here');
      expect(res.status).toBe(404);
      expect(res.body.error.innerError.code).toBe('routeNotFound');
      expect(res.headers.get('request-id')).toBe(res.body.error.innerError['request-id']);
    }
  });

  it('answers malformed requests to protected paths before authentication, in Graph shape (400, 414, 431, upgrade 404)', async () => {
    const badUrl = await rawHttp(fixture.gateway.url, `GET /%63ommunications/calls/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(badUrl.status).toBe(400);
    expect(badUrl.headers['request-id']).toBe(badUrl.body.error.innerError['request-id']);
    const long = await rawHttp(fixture.gateway.url, `GET /%63ommunications/calls/${'%61'.repeat(101)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(long.status).toBe(414);
    expect(long.body.error.code).toBe('requestUriTooLong');
    expect(long.headers['request-id']).toBe(long.body.error.innerError['request-id']);
    const hugeUrl = await rawHttp(fixture.gateway.url, `GET /communications/calls/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(hugeUrl.status).toBe(431);
    expect(hugeUrl.headers['request-id']).toBe(hugeUrl.body.error.innerError['request-id']);
    // A WebSocket upgrade to a path no endpoint owns.
    const upgrade = await rawHttp(
      fixture.gateway.url,
      'GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(upgrade.status).toBe(404);
    expect(upgrade.body.error.innerError.code).toBe('routeNotFound');
    expect(upgrade.headers['request-id']).toBe(upgrade.body.error.innerError['request-id']);
  });

  it('malformed Bayeux messages from anyone get a Bayeux error, and the gateway keeps running', async () => {
    // Before the fix, `[{}]` (a message without a channel) was an unhandled rejection that ended the process.
    const bodies = ['[{}]', '{"channel":5}', '[5]', '[{"channel":{}}]', '[[]]', '[{"channel":"/foo","data":{}}]', '[{"channel":"/meta/subscribe","subscription":5}]'];
    for (const body of bodies) {
      const res = await fetch(`${fixture.gateway.url}/cometd`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(200);
      const replies = (await res.json()) as { successful?: boolean; error?: string }[];
      expect(replies.length, body).toBeGreaterThan(0);
      for (const reply of replies) {
        expect(reply.successful, body).toBe(false);
        expect(reply.error, body).toMatch(/^40\d:/);
      }
    }
    expect((await anonymous().get('/healthz')).status).toBe(200);
  });
});

describe('authentication switched off (auth.enabled=false)', () => {
  it('serves the protected routes as the application, and still answers in Graph shape', async () => {
    const gateway = await startTestGateway({ MUTEGATE_AUTH_ENABLED: 'false' });
    try {
      const anonymous = apiClient(gateway.url, null);
      const created = await anonymous.post('/communications/calls', { subject: 'no auth' });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await anonymous.get('/%63ommunications/calls')).status).toBe(200);
      const missing = await anonymous.get(`/communications/calls/${randomUUID()}`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('request-id')).toBe(missing.body.error.innerError['request-id']);
    } finally {
      await gateway.close();
    }
  });
});
