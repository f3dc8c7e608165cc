import type { FastifyInstance } from 'fastify';
import { MODERATOR_ACTIONS, moderate, muteAll, setHand } from '../../../commands/moderation.js';
import { principalOf } from '../authentication.js';
import { callPath, operationPath, operationResource, participantPath, rosterParticipantResource } from '../../graph/resources.js';
import type { CallParams, ClientContextBody, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { muteAllSchema, participantActionSchema } from './moderation.schema.js';
import { bodilessMeansEmpty } from './mute.js';

/** Moderation routes (mutegate extensions next to Graph's): lock, deafen, requestUnmute, mute all, hands. */
export function moderationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const item = participantPath(':callId', ':participantId');
  const opts = { schema: participantActionSchema, preValidation: bodilessMeansEmpty };

  for (const action of MODERATOR_ACTIONS) {
    app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(`${item}/${action}`, opts, async (request, reply) => {
      const { callId, participantId } = request.params;
      const operation = await moderate(ctx, principalOf(request), action, callId, participantId, request.body.clientContext);
      return reply.header('Location', operationPath(callId, operation.id)).send(operationResource(operation));
    });
  }

  // Hands: raised by the person itself; lowered by it or a moderator. The reply is the roster view.
  for (const raised of [true, false]) {
    app.post<{ Params: ParticipantParams }>(`${item}/${raised ? 'raiseHand' : 'lowerHand'}`, { schema: { params: participantActionSchema.params } }, async (request) =>
      rosterParticipantResource(await setHand(ctx, principalOf(request), request.params.callId, request.params.participantId, raised)),
    );
  }

  app.post<{ Params: CallParams; Body: ClientContextBody & { exceptParticipantIds?: string[] } }>(
    `${callPath(':callId')}/muteAll`,
    { schema: muteAllSchema, preValidation: bodilessMeansEmpty },
    async (request, reply) => {
      const { callId } = request.params;
      const operation = await muteAll(ctx, principalOf(request), callId, request.body.exceptParticipantIds ?? [], request.body.clientContext);
      return reply.header('Location', operationPath(callId, operation.id)).send(operationResource(operation));
    },
  );
}
