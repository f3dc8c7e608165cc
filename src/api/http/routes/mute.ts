import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallService } from '../../../control/CallService.js';
import type { Operation } from '../../../control/Operation.js';
import { callPath, operationPath, operationResource, participantPath } from '../../graph/resources.js';
import type { CallParams, ClientContextBody, ParticipantParams } from '../shared.schema.js';
import { muteCallSchema, muteParticipantSchema } from './mute.schema.js';

/** When fastify received the request, on the process.hrtime clock the domain measures with. */
function receivedAt(reply: FastifyReply): bigint {
  return process.hrtime.bigint() - BigInt(Math.round(reply.elapsedTime * 1e6));
}

/** 200 with the finished operation and its Location, once the media worker confirmed it. */
function sendOperation(reply: FastifyReply, operation: Operation): FastifyReply {
  return reply.header('Location', operationPath(operation.callId, operation.id)).send(operationResource(operation));
}

/** Graph clients always send a JSON body, but a bodiless POST (curl -X POST) means "no clientContext". */
async function bodilessMeansEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

export function muteRoutes(app: FastifyInstance, service: CallService): void {
  for (const action of ['mute', 'unmute'] as const) {
    app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(
      `${participantPath(':callId', ':participantId')}/${action}`,
      { schema: muteParticipantSchema, preValidation: bodilessMeansEmpty },
      async (request, reply) => {
        const { callId, participantId } = request.params;
        const { clientContext } = request.body;
        const operation =
          action === 'mute'
            ? await service.muteParticipant(callId, participantId, clientContext, receivedAt(reply))
            : await service.unmuteParticipant(callId, participantId, clientContext, receivedAt(reply));
        return sendOperation(reply, operation);
      },
    );

    app.post<{ Params: CallParams; Body: ClientContextBody }>(
      `${callPath(':callId')}/${action}`,
      { schema: muteCallSchema, preValidation: bodilessMeansEmpty },
      async (request, reply) => {
        const { callId } = request.params;
        const { clientContext } = request.body;
        const operation =
          action === 'mute'
            ? await service.muteApp(callId, clientContext, receivedAt(reply))
            : await service.unmuteApp(callId, clientContext, receivedAt(reply));
        return sendOperation(reply, operation);
      },
    );
  }
}
