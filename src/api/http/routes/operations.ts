import type { FastifyInstance } from 'fastify';
import { readOperation } from '../../../commands/operations.js';
import { principalOf } from '../authentication.js';
import { operationPath, operationResource } from '../../graph/resources.js';
import type { RouteContext } from './context.js';
import { getOperationSchema } from './operations.schema.js';
import { TAG } from '../docs.js';
import { operationResponse } from '../responses.schema.js';

const doc = { tags: [TAG.operations], operationId: 'getOperation', summary: 'Read an operation (mute, moderation) by id', docResponses: { 200: operationResponse } };

export function operationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { callId: string; operationId: string } }>(operationPath(':callId', ':operationId'), { schema: { ...getOperationSchema, ...doc } }, async (request) =>
    operationResource(readOperation(ctx, principalOf(request), request.params.callId, request.params.operationId)),
  );
}
