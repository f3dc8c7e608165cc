import type { FastifyInstance } from 'fastify';
import { changeCallSettings, createCall, endCall, listCalls, readCall } from '../../../commands/calls.js';
import type { CreateCallInput } from '../../../control/CallService.js';
import { principalOf } from '../authentication.js';
import { callPath, callsPath, callView } from '../../graph/resources.js';
import type { CallParams } from '../shared.schema.js';
import { TAG } from '../docs.js';
import { callListResponse, callResponse, noContent } from '../responses.schema.js';
import { callIdSchema, createCallSchema, updateCallSchema } from './calls.schema.js';
import type { RouteContext } from './context.js';

const tags = [TAG.calls];

export function callRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const createDoc = { tags, operationId: 'createCall', summary: 'Create a call', docResponses: { 201: callResponse }, locationOf: 'call' as const };
  app.post<{ Body: CreateCallInput }>(callsPath, { schema: { ...createCallSchema, ...createDoc } }, async (request, reply) => {
    const created = await createCall(ctx, principalOf(request), request.body);
    return reply.status(201).header('Location', callPath(created.call.id)).send(callView(created));
  });

  // Every call the token may see.
  const listDoc = { tags, operationId: 'listCalls', summary: 'List the calls the token may see', docResponses: { 200: callListResponse } };
  app.get(callsPath, { schema: listDoc }, async (request) => ({ value: listCalls(ctx, principalOf(request)).map(callView) }));

  const readDoc = { tags, operationId: 'getCall', summary: 'Read a call', docResponses: { 200: callResponse } };
  app.get<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: { ...callIdSchema, ...readDoc } }, async (request) =>
    callView(readCall(ctx, principalOf(request), request.params.callId)),
  );

  const updateDoc = { tags, operationId: 'updateCall', summary: 'Change call settings (muteOnEntry)', docResponses: { 200: callResponse } };
  app.patch<{ Params: CallParams; Body: { muteOnEntry: boolean } }>(callPath(':callId'), { schema: { ...updateCallSchema, ...updateDoc } }, async (request) =>
    callView(await changeCallSettings(ctx, principalOf(request), request.params.callId, request.body)),
  );

  const endDoc = { tags, operationId: 'endCall', summary: 'End a call', docResponses: { 204: noContent } };
  app.delete<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: { ...callIdSchema, ...endDoc } }, async (request, reply) => {
    endCall(ctx, principalOf(request), request.params.callId);
    return reply.status(204).send();
  });
}
