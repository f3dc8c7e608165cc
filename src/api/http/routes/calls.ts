import type { FastifyInstance } from 'fastify';
import type { CallService, CreateCallInput } from '../../../control/CallService.js';
import { callPath, callResource, callsPath } from '../../graph/resources.js';
import type { CallParams } from '../shared.schema.js';
import { callIdSchema, createCallSchema } from './calls.schema.js';

export function callRoutes(app: FastifyInstance, service: CallService): void {
  app.post<{ Body: CreateCallInput }>(callsPath, { schema: createCallSchema }, async (request, reply) => {
    const call = await service.createCall(request.body);
    return reply.status(201).header('Location', callPath(call.id)).send(callResource(call));
  });

  app.get(callsPath, async () => ({ value: service.listCalls().map(callResource) }));

  app.get<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: callIdSchema }, async (request) =>
    callResource(service.getCall(request.params.callId)),
  );

  app.delete<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: callIdSchema }, async (request, reply) => {
    service.deleteCall(request.params.callId);
    return reply.status(204).send();
  });
}
