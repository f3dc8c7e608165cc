import type { FastifyInstance } from 'fastify';
import { MODERATOR_ACTIONS, moderate, muteAll, setHand } from '../../../commands/moderation.js';
import { principalOf } from '../authentication.js';
import { callPath, operationPath, operationResource, participantPath, rosterParticipantResource } from '../../graph/resources.js';
import type { CallParams, ClientContextBody, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { muteAllSchema, participantActionSchema } from './moderation.schema.js';
import { bodilessMeansEmpty } from './mute.js';
import { TAG } from '../docs.js';
import { operationResponse } from '../responses.schema.js';
import { participantResponse } from './participants.schema.js';

/** What each moderator action does, for the document. */
const ACTION_SUMMARIES: Record<(typeof MODERATOR_ACTIONS)[number], string> = {
  lock: 'Hard-mute a participant: muted, and it cannot unmute itself',
  unlock: 'Lift a hard mute (the participant stays muted until unmuted)',
  deafen: 'Deafen a participant: it hears nobody',
  undeafen: 'Let a deafened participant hear again',
  requestUnmute: 'Ask a muted participant to unmute itself',
};

const tags = [TAG.moderation];

/** Moderation routes (mutegate extensions next to Graph's): lock, deafen, requestUnmute, mute all, hands. */
export function moderationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const item = participantPath(':callId', ':participantId');
  const opts = { schema: { ...participantActionSchema, bodyOptional: true }, preValidation: bodilessMeansEmpty };

  for (const action of MODERATOR_ACTIONS) {
    const doc = { tags, operationId: `${action}Participant`, summary: ACTION_SUMMARIES[action], docResponses: { 200: operationResponse }, locationOf: 'operation' as const };
    app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(`${item}/${action}`, { ...opts, schema: { ...opts.schema, ...doc } }, async (request, reply) => {
      const { callId, participantId } = request.params;
      const operation = await moderate(ctx, principalOf(request), action, callId, participantId, request.body.clientContext);
      return reply.header('Location', operationPath(callId, operation.id)).send(operationResource(operation));
    });
  }

  // Hands: raised by the person itself; lowered by it or a moderator. The reply is the roster view.
  for (const raised of [true, false]) {
    const name = raised ? 'raiseHand' : 'lowerHand';
    const doc = { tags, operationId: name, summary: raised ? 'Raise your hand' : 'Lower a hand (your own, or anyone\'s as a moderator)', docResponses: { 200: participantResponse } };
    app.post<{ Params: ParticipantParams }>(`${item}/${name}`, { schema: { params: participantActionSchema.params, ...doc } }, async (request) =>
      rosterParticipantResource(await setHand(ctx, principalOf(request), request.params.callId, request.params.participantId, raised)),
    );
  }

  app.post<{ Params: CallParams; Body: ClientContextBody & { exceptParticipantIds?: string[] } }>(
    `${callPath(':callId')}/muteAll`,
    { schema: { ...muteAllSchema, bodyOptional: true, tags, operationId: 'muteAll', summary: 'Mute everyone in the call except the listed participants', docResponses: { 200: operationResponse }, locationOf: 'operation' as const }, preValidation: bodilessMeansEmpty },
    async (request, reply) => {
      const { callId } = request.params;
      const operation = await muteAll(ctx, principalOf(request), callId, request.body.exceptParticipantIds ?? [], request.body.clientContext);
      return reply.header('Location', operationPath(callId, operation.id)).send(operationResource(operation));
    },
  );
}
