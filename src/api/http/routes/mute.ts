import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '../../../control/Operation.js';
import { mute, muteApplication, unmute } from '../../../commands/mute.js';
import { principalOf } from '../authentication.js';
import { callPath, operationPath, operationResource, participantPath } from '../../graph/resources.js';
import type { CallParams, ClientContextBody, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { muteCallSchema, muteParticipantSchema } from './mute.schema.js';

/** Graph clients always send a JSON body, but a bodiless POST (curl -X POST) means "no clientContext". */
export async function bodilessMeansEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

/** When fastify received the request, on the process.hrtime clock the domain measures with. */
export function receivedAt(reply: FastifyReply): bigint {
  return process.hrtime.bigint() - BigInt(Math.round(reply.elapsedTime * 1e6));
}

/** 200 with the finished operation and its Location, once the media worker confirmed it. */
function sendOperation(reply: FastifyReply, operation: Operation): FastifyReply {
  return reply.header('Location', operationPath(operation.callId, operation.id)).send(operationResource(operation));
}

export function muteRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const opts = (schema: object) => ({ schema, preValidation: bodilessMeansEmpty });
  const meta = (request: FastifyRequest<{ Body: ClientContextBody }>, reply: FastifyReply) => ({
    clientContext: request.body.clientContext,
    receivedAt: receivedAt(reply),
  });

  app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(
    `${participantPath(':callId', ':participantId')}/mute`,
    opts(muteParticipantSchema),
    async (request, reply) =>
      sendOperation(reply, await mute(ctx, principalOf(request), request.params.callId, request.params.participantId, meta(request, reply))),
  );

  app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(
    `${participantPath(':callId', ':participantId')}/unmute`,
    opts(muteParticipantSchema),
    async (request, reply) =>
      sendOperation(reply, await unmute(ctx, principalOf(request), request.params.callId, request.params.participantId, meta(request, reply))),
  );

  // Graph: the application mutes/unmutes its own participant.
  for (const action of ['mute', 'unmute'] as const) {
    app.post<{ Params: CallParams; Body: ClientContextBody }>(`${callPath(':callId')}/${action}`, opts(muteCallSchema), async (request, reply) =>
      sendOperation(reply, await muteApplication(ctx, principalOf(request), request.params.callId, action === 'mute', meta(request, reply))),
    );
  }
}
