import { mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ROOT } from '../../src/api/http/routes/webClient.js';
import { apiClient, type ApiResponse, useGateway } from '../helpers/gateway.js';
import { registeredRoutes } from '../helpers/registeredRoutes.js';
import { createGroupCall, joinRtp, type RtpParticipant } from '../helpers/rtpCall.js';
import { tokenFor, userToken } from '../helpers/tokens.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

// `any`: the document is arbitrary JSON walked by path; each use is checked by an assertion.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** "METHOD /path/{param}" for every operation of the document. */
function documentedOperations(doc: Json): string[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => METHODS.includes(key))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

/** The routes that are not the API: the document itself, its UI, and the browser page's files. */
function isNotApi(route: string, staticFiles: Set<string>): boolean {
  const [method, path] = route.split(' ') as [string, string];
  // fastify adds a HEAD route to every GET route by itself; the document lists the GET.
  if (method === 'HEAD') return true;
  return path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/') || path === '/' || staticFiles.has(path);
}

/**
 * A copy of `schema` that refuses what it does not declare: every object schema with
 * `properties` and no `additionalProperties` of its own gets `additionalProperties: false`, so a
 * field a route sends and the document does not describe fails validation.
 */
function refusingUndeclared(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(refusingUndeclared);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Json = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === 'examples' ? v : refusingUndeclared(v)]));
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

describe('OpenAPI document (GET /openapi.json) and reference (GET /docs)', () => {
  const fixture = useGateway();
  let doc: Json;
  /** The document with every $ref resolved in place. */
  let resolved: Json;
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const peers: RtpParticipant[] = [];

  beforeAll(async () => {
    // No token: the description is public.
    const res = await fetch(`${fixture.gateway.url}/openapi.json`);
    expect(res.status, 'GET /openapi.json without a token').toBe(200);
    doc = await res.json();
    resolved = await SwaggerParser.dereference(structuredClone(doc));
  });
  afterAll(async () => {
    for (const p of peers) p.peer.close();
  });

  /** The documented response schema of an operation for a status (exact, else its range 4XX/5XX). */
  function responseValidator(method: string, path: string, status: number): ValidateFunction {
    const operation = resolved.paths[path]?.[method.toLowerCase()];
    expect(operation, `${method} ${path} is documented`).toBeDefined();
    const response = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
    expect(response, `${method} ${path} documents status ${status}`).toBeDefined();
    const schema = response.content?.['application/json']?.schema;
    expect(schema, `${method} ${path} ${status} has a JSON schema`).toBeDefined();
    return ajv.compile(refusingUndeclared(schema));
  }

  /** Asserts that a real reply has the status expected and matches what the document says of it. */
  function expectDocumented(reply: ApiResponse, method: string, path: string, status: number): void {
    expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(status);
    const validate = responseValidator(method, path, status);
    const valid = validate(reply.body);
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params.additionalProperty ? `: "${e.params.additionalProperty}"` : ''}`);
    expect(valid, `${method} ${path} ${status} reply vs the document: ${errors.join('; ')}\n${JSON.stringify(reply.body)}`).toBe(true);
    // A Location header is sent exactly where the document says one is.
    const operation = resolved.paths[path][method.toLowerCase()];
    const documented = Boolean((operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`]).headers?.Location);
    const location = reply.headers.get('location');
    expect(location !== null, `${method} ${path} ${status}: Location ${location ?? 'not sent'}, documented: ${documented}`).toBe(documented);
  }

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // Throws with the first violation of the OpenAPI schema or an unresolvable $ref.
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
  });

  it('describes every route fastify registered, with its method, and nothing else', () => {
    const staticFiles = new Set(readdirSync(WEB_ROOT, { recursive: true }).map((file) => `/${String(file)}`));
    const registered = registeredRoutes(fixture.gateway.http).filter((route) => !isNotApi(route, staticFiles));
    // The listing is read right: the mute route is in it (a broken parser would pass with nothing).
    expect(registered).toContain('POST /communications/calls/{callId}/participants/{participantId}/mute');
    expect(documentedOperations(doc).sort()).toEqual([...new Set(registered)].sort());
  });

  it('declares the bearer JWT scheme and requires it exactly where the gateway does', async () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const anonymous = apiClient(fixture.gateway.url, null);
    const bearer = [{ bearerAuth: [] }];
    const documented: Record<string, unknown> = {};
    const enforced: Record<string, unknown> = {};
    for (const operation of documentedOperations(doc)) {
      const [method, path] = operation.split(' ') as [string, string];
      documented[operation] = resolved.paths[path][method.toLowerCase()].security ?? 'public';
      // Without a token: an unknown id is enough to tell the token check's 401 from the rest.
      const reply = await anonymous.request(method, path.replace(/\{\w+\}/g, 'no-such-id'), method === 'GET' || method === 'DELETE' ? undefined : {});
      enforced[operation] = reply.status === 401 ? bearer : 'public';
    }
    expect(enforced).toEqual(documented);
    // Both kinds exist (this gateway's config makes /metrics public).
    expect(documented['GET /healthz']).toBe('public');
    expect(documented['POST /communications/calls/{callId}/participants/{participantId}/mute']).toEqual(bearer);
  });

  it('documents errors in the shape of each API: Graph for Graph routes, Genesys for /api/v2', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['GraphError', 'GenesysError']));
    for (const operation of documentedOperations(doc)) {
      const [method, path] = operation.split(' ') as [string, string];
      const responses = doc.paths[path][method.toLowerCase()].responses;
      const shape = path.startsWith('/api/v2/') ? 'GenesysError' : 'GraphError';
      for (const range of ['4XX', '5XX']) {
        expect(responses[range]?.content['application/json'].schema, `${operation} ${range}`).toEqual({ $ref: `#/components/schemas/${shape}` });
      }
    }
  });

  it('documents the request-id header on every reply, and an optional body where a bodiless POST is taken as {}', () => {
    for (const operation of documentedOperations(doc)) {
      const [method, path] = operation.split(' ') as [string, string];
      for (const [status, response] of Object.entries(doc.paths[path][method.toLowerCase()].responses as Record<string, Json>)) {
        expect(response.headers?.['request-id'], `${operation} ${status}`).toEqual({ $ref: '#/components/headers/request-id' });
      }
    }
    expect(doc.paths['/communications/calls/{callId}/participants/{participantId}/mute'].post.requestBody.required).toBe(false);
    expect(doc.paths['/communications/calls/{callId}/muteAll'].post.requestBody.required).toBe(false);
    expect(doc.paths['/communications/calls/{callId}/participants'].post.requestBody.required).toBe(true);
  });

  it('groups every operation under a declared tag and gives each an id and a summary', () => {
    const declared = doc.tags.map((tag: { name: string }) => tag.name);
    expect(declared).toEqual(['Graph calls', 'Graph participants', 'Mute', 'Moderation', 'Operations', 'Genesys Workspace Voice', 'Health and metrics']);
    const ids = new Set<string>();
    for (const operation of documentedOperations(doc)) {
      const [method, path] = operation.split(' ') as [string, string];
      const described = doc.paths[path][method.toLowerCase()];
      expect(described.tags, operation).toHaveLength(1);
      expect(declared, operation).toContain(described.tags[0]);
      expect(described.summary, operation).toEqual(expect.any(String));
      ids.add(described.operationId);
    }
    expect(ids.size, 'operationIds are unique and present').toBe(documentedOperations(doc).length);
  });

  it('has examples of a join and a mute that the gateway accepts as they are', async () => {
    const join = resolved.paths['/communications/calls/{callId}/participants'].post.requestBody.content['application/json'];
    const mute = resolved.paths['/communications/calls/{callId}/participants/{participantId}/mute'].post;
    const muteBody = mute.requestBody.content['application/json'];
    const muteReply = mute.responses['200'].content['application/json'];
    expect(join.example.media.kind).toBe('rtp');
    expect(ajv.validate(join.schema, join.example), ajv.errorsText()).toBe(true);
    expect(ajv.validate(muteBody.schema, muteBody.example), ajv.errorsText()).toBe(true);
    expect(muteReply.example.status).toBe('completed');
    expect(ajv.validate(refusingUndeclared(muteReply.schema), muteReply.example), ajv.errorsText()).toBe(true);

    // Copied into a real call, they work.
    const callId = await createGroupCall(fixture.api, { subject: 'examples' });
    const joined = await fixture.api.post(`/communications/calls/${callId}/participants`, join.example);
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    const muted = await fixture.api.post(`/communications/calls/${callId}/participants/${joined.body.id}/mute`, muteBody.example);
    expect(muted.status, JSON.stringify(muted.body)).toBe(200);
    expect(muted.body).toMatchObject({ status: muteReply.example.status, clientContext: muteBody.example.clientContext });
    expect((await fixture.api.delete(`/communications/calls/${callId}`)).status).toBe(204);
  });

  it('matches the real replies: every field sent is documented, every documented required field is sent', async () => {
    const calls = '/communications/calls';
    const call = `${calls}/{callId}`;
    const participant = `${call}/participants/{participantId}`;

    const created = await fixture.api.post(calls, { subject: 'documented call', muteOnEntry: false });
    expectDocumented(created, 'POST', calls, 201);
    const callId: string = created.body.id;
    expectDocumented(await fixture.api.get(calls), 'GET', calls, 200);
    expectDocumented(await fixture.api.get(`${calls}/${callId}`), 'GET', call, 200);
    expectDocumented(await fixture.api.patch(`${calls}/${callId}`, { muteOnEntry: false }), 'PATCH', call, 200);

    const a = await joinRtp(fixture.api, callId, { userId: 'documented-a' });
    const b = await joinRtp(fixture.api, callId, { userId: 'documented-b' });
    peers.push(a, b);
    expectDocumented(await fixture.api.get(`${calls}/${callId}/participants`), 'GET', `${call}/participants`, 200);
    expectDocumented(await fixture.api.get(`${calls}/${callId}/participants/${a.id}`), 'GET', participant, 200);

    const muted = await fixture.api.post(`${calls}/${callId}/participants/${a.id}/mute`, { clientContext: 'documented' });
    expectDocumented(muted, 'POST', `${participant}/mute`, 200);
    expectDocumented(await fixture.api.get(`${calls}/${callId}/operations/${muted.body.id}`), 'GET', `${call}/operations/{operationId}`, 200);
    // Bodiless, as the document allows.
    expectDocumented(await fixture.api.post(`${calls}/${callId}/participants/${a.id}/unmute`), 'POST', `${participant}/unmute`, 200);
    expectDocumented(await fixture.api.post(`${calls}/${callId}/participants/${b.id}/lock`, {}), 'POST', `${participant}/lock`, 200);
    expectDocumented(await fixture.api.post(`${calls}/${callId}/muteAll`, { exceptParticipantIds: [b.id] }), 'POST', `${call}/muteAll`, 200);
    const self = apiClient(fixture.gateway.url, tokenFor({ role: 'participant', subject: 'documented-a', call: callId }));
    expectDocumented(await self.post(`${calls}/${callId}/participants/${a.id}/raiseHand`), 'POST', `${participant}/raiseHand`, 200);

    const agent = apiClient(fixture.gateway.url, userToken('documented-a'));
    expectDocumented(await agent.get('/api/v2/me/calls'), 'GET', '/api/v2/me/calls', 200);
    expectDocumented(await agent.get(`/api/v2/me/calls/${callId}`), 'GET', '/api/v2/me/calls/{callId}', 200);
    expectDocumented(await agent.post(`/api/v2/me/calls/${callId}`, { operationName: 'LowerHand' }), 'POST', '/api/v2/me/calls/{callId}', 200);
    expectDocumented(await agent.get('/api/v2/me/calls/no-such-call'), 'GET', '/api/v2/me/calls/{callId}', 404);

    expectDocumented(await fixture.api.get(`${calls}/no-such-call`), 'GET', call, 404);
    expectDocumented(await apiClient(fixture.gateway.url, null).get(calls), 'GET', calls, 401);
    expectDocumented(await fixture.api.get('/healthz'), 'GET', '/healthz', 200);

    const removed = await fixture.api.delete(`${calls}/${callId}/participants/${b.id}`);
    expect(removed.status).toBe(204);
    expect(resolved.paths[participant].delete.responses['204']).toBeDefined();
    const ended = await fixture.api.delete(`${calls}/${callId}`);
    expect(ended.status).toBe(204);
    expect(resolved.paths[call].delete.responses['204']).toBeDefined();
  });

  describe('in headless Chromium', () => {
    let browser: Browser;

    beforeAll(async () => {
      try {
        browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
      } catch (err) {
        // No silent skip: a missing or broken browser fails this suite with the reason.
        throw new Error(`cannot start /usr/bin/chromium (run "bash scripts/setup.sh --browser"): ${(err as Error).message}`);
      }
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('renders /docs with the operation list, from the gateway alone (no token, nothing fetched elsewhere)', async () => {
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      const pageErrors: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(`${fixture.gateway.url}/`) && !request.url().startsWith('data:')) elsewhere.push(request.url());
      });
      page.on('pageerror', (err) => pageErrors.push(err.message));
      try {
        const response = await page.goto(`${fixture.gateway.url}/docs`);
        expect(response?.status(), 'GET /docs').toBe(200);
        const mute = page.locator('.opblock-summary-path[data-path="/communications/calls/{callId}/participants/{participantId}/mute"]');
        await mute.waitFor({ state: 'visible', timeout: 15_000 });
        expect(await page.locator('.opblock-tag').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('Mute'), expect.stringContaining('Genesys Workspace Voice')]));
        expect(await page.locator('.opblock-summary-description').allTextContents()).toContain(
          'Server-mute a participant (answered once the media worker paused its audio)',
        );
        // The bearer scheme is offered (the "Authorize" button).
        await page.locator('.btn.authorize').waitFor({ state: 'visible' });
        expect(elsewhere, 'requests that left the gateway').toEqual([]);
        expect(pageErrors, 'page errors').toEqual([]);
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: `${ARTIFACTS}docs.png` });
      } finally {
        await page.close();
      }
    });
  });
});
