import type { FastifyInstance } from 'fastify';
import type { CreateCallInput } from '../../../control/CallService.js';
import { principalOf } from '../authentication.js';
import { callPath, callResource, callsPath } from '../../graph/resources.js';
import type { CallParams } from '../shared.schema.js';
import { callIdSchema, createCallSchema } from './calls.schema.js';
import type { RouteContext } from './context.js';

export function callRoutes(app: FastifyInstance, { service, policy }: RouteContext): void {
  app.post<{ Body: CreateCallInput }>(callsPath, { schema: createCallSchema }, async (request, reply) => {
    policy.requireApp(principalOf(request), 'creating a call');
    const call = await service.createCall(request.body);
    return reply.status(201).header('Location', callPath(call.id)).send(callResource(call));
  });

  // Every call the token may see.
  app.get(callsPath, async (request) => {
    const principal = principalOf(request);
    const visible = service.listCalls().filter((call) => {
      try {
        policy.requireCallAccess(principal, call);
        return true;
      } catch {
        return false;
      }
    });
    return { value: visible.map(callResource) };
  });

  app.get<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: callIdSchema }, async (request) => {
    const call = service.getCall(request.params.callId);
    policy.requireCallAccess(principalOf(request), call);
    return callResource(call);
  });

  app.delete<{ Params: CallParams }>(`${callsPath}/:callId`, { schema: callIdSchema }, async (request, reply) => {
    policy.requireModerator(principalOf(request), service.getCall(request.params.callId), 'ending a call');
    service.deleteCall(request.params.callId);
    return reply.status(204).send();
  });
}
