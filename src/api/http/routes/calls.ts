import type { FastifyInstance } from 'fastify';
import { changeCallSettings, createCall, endCall, listCalls, readCall } from '../../../commands/calls.js';
import type { CreateCallInput } from '../../../control/CallService.js';
import { principalOf } from '../authentication.js';
import { callPath, callsPath, callView } from '../../graph/resources.js';
import type { CallParams } from '../shared.schema.js';
import { callIdSchema, createCallSchema, updateCallSchema } from './calls.schema.js';
import type { RouteContext } from './context.js';

export function callRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: CreateCallInput }>(callsPath, { schema: createCallSchema }, async (request, reply) => {
    const created = await createCall(ctx, principalOf(request), request.body);
    return reply.status(201).header('Location', callPath(created.call.id)).send(callView(created));
  });

  // Every call the token may see.
  app.get(callsPath, async (request) => ({ value: listCalls(ctx, principalOf(request)).map(callView) }));

  app.get<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: callIdSchema }, async (request) =>
    callView(readCall(ctx, principalOf(request), request.params.callId)),
  );

  app.patch<{ Params: CallParams; Body: { muteOnEntry: boolean } }>(callPath(':callId'), { schema: updateCallSchema }, async (request) =>
    callView(changeCallSettings(ctx, principalOf(request), request.params.callId, request.body)),
  );

  app.delete<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: callIdSchema }, async (request, reply) => {
    endCall(ctx, principalOf(request), request.params.callId);
    return reply.status(204).send();
  });
}
