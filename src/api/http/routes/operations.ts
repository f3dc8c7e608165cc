import type { FastifyInstance } from 'fastify';
import { principalOf } from '../authentication.js';
import { operationPath, operationResource } from '../../graph/resources.js';
import type { RouteContext } from './context.js';
import { getOperationSchema } from './operations.schema.js';

export function operationRoutes(app: FastifyInstance, { service, policy }: RouteContext): void {
  app.get<{ Params: { callId: string; operationId: string } }>(
    operationPath(':callId', ':operationId'),
    { schema: getOperationSchema },
    async (request) => {
      policy.requireCallAccess(principalOf(request), service.getCall(request.params.callId));
      return operationResource(service.getOperation(request.params.callId, request.params.operationId));
    },
  );
}
