import type { FastifyInstance } from 'fastify';
import { joinRtp, listParticipants, readParticipant, removeParticipant, replaceSendStream } from '../../../commands/participants.js';
import type { IdentitySet } from '../../../control/identity.js';
import type { RtpMediaSpec } from '../../../control/Participant.js';
import { principalOf } from '../authentication.js';
import { participantPath, participantsPath, participantView } from '../../graph/resources.js';
import type { CallParams, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { joinParticipantSchema, listParticipantsSchema, participantIdSchema, updateParticipantSchema } from './participants.schema.js';

interface JoinBody {
  info: { identity: IdentitySet };
  media: RtpMediaSpec;
}

interface UpdateBody {
  media: { payloadType: number; ssrc: number };
}

export function participantRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const collection = participantsPath(':callId');
  const item = participantPath(':callId', ':participantId');

  app.post<{ Params: CallParams; Body: JoinBody }>(collection, { schema: joinParticipantSchema }, async (request, reply) => {
    const { callId } = request.params;
    const joined = await joinRtp(ctx, principalOf(request), callId, { identity: request.body.info.identity, media: request.body.media });
    return reply.status(201).header('Location', participantPath(callId, joined.participant.id)).send(participantView(joined));
  });

  app.get<{ Params: CallParams }>(collection, { schema: listParticipantsSchema }, async (request) => ({
    value: listParticipants(ctx, principalOf(request), request.params.callId).map(participantView),
  }));

  app.get<{ Params: ParticipantParams }>(item, { schema: participantIdSchema }, async (request) =>
    participantView(readParticipant(ctx, principalOf(request), request.params.callId, request.params.participantId)),
  );

  app.patch<{ Params: ParticipantParams; Body: UpdateBody }>(item, { schema: updateParticipantSchema }, async (request) =>
    participantView(await replaceSendStream(ctx, principalOf(request), request.params.callId, request.params.participantId, request.body.media)),
  );

  app.delete<{ Params: ParticipantParams }>(item, { schema: { params: participantIdSchema.params } }, async (request, reply) => {
    await removeParticipant(ctx, principalOf(request), request.params.callId, request.params.participantId);
    return reply.status(204).send();
  });
}
