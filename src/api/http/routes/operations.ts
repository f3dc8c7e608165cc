import type { FastifyInstance } from 'fastify';
import type { CallService } from '../../../control/CallService.js';
import { operationPath, operationResource } from '../../graph/resources.js';
import { getOperationSchema } from './operations.schema.js';

export function operationRoutes(app: FastifyInstance, service: CallService): void {
  app.get<{ Params: { callId: string; operationId: string } }>(
    operationPath(':callId', ':operationId'),
    { schema: getOperationSchema },
    async (request) => operationResource(service.getOperation(request.params.callId, request.params.operationId)),
  );
}
