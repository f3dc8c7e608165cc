import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { createGroupCall } from '../helpers/rtpCall.js';

/**
 * HTTP libraries that send `Content-Type: application/json` on every request, with no body: a
 * request without a body, not a 400 (a DELETE left calls behind that way). A route that needs a
 * body still says so; a body that is not JSON is still refused.
 */
describe('a JSON content type with an empty body', () => {
  const fixture = useGateway();
  const json = { headers: { 'content-type': 'application/json' } };

  it('deletes a call, mutes without clientContext, and refuses an empty create with the schema’s message', async () => {
    const api = fixture.api;
    const callId = await createGroupCall(api);
    const joined = await api.post(`/communications/calls/${callId}/participants`, {
      info: { identity: { user: { id: 'empty-body' } } },
      media: { kind: 'rtp', payloadType: 100, ssrc: 4242, receive: { ip: '127.0.0.1', port: 40404 } },
    });
    expect(joined.status, JSON.stringify(joined.body)).toBe(201);
    const mute = await api.request('POST', `/communications/calls/${callId}/participants/${joined.body.id}/mute`, '', json);
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    expect(mute.body).toMatchObject({ status: 'completed' });
    expect((await api.request('DELETE', `/communications/calls/${callId}`, undefined, json)).status).toBe(204);
    expect((await api.get(`/communications/calls/${callId}`)).status).toBe(404);

    const create = await api.request('POST', '/communications/calls', '', json);
    expect(create.status).toBe(400);
    expect(create.body.error).toMatchObject({ message: 'invalid request: body must be object', innerError: { code: 'invalidRequestBody' } });
    const notJson = await api.request('POST', '/communications/calls', '{"subject":', json);
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.innerError.code).toBe('FST_ERR_CTP_INVALID_JSON_BODY');
  });
});
