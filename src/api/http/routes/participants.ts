import type { FastifyInstance } from 'fastify';
import type { CallService, JoinInput } from '../../../control/CallService.js';
import type { IdentitySet } from '../../../control/identity.js';
import type { RtpMediaSpec } from '../../../control/Participant.js';
import { participantPath, participantResource, participantsPath } from '../../graph/resources.js';
import type { CallParams, ParticipantParams } from '../shared.schema.js';
import { joinParticipantSchema, participantIdSchema, updateParticipantSchema } from './participants.schema.js';

interface JoinBody {
  info: { identity: IdentitySet };
  media: RtpMediaSpec;
}

interface UpdateBody {
  media: { payloadType: number; ssrc: number };
}

export function participantRoutes(app: FastifyInstance, service: CallService): void {
  const collection = participantsPath(':callId');
  const item = participantPath(':callId', ':participantId');

  app.post<{ Params: CallParams; Body: JoinBody }>(collection, { schema: joinParticipantSchema }, async (request, reply) => {
    const { callId } = request.params;
    const input: JoinInput = { identity: request.body.info.identity, media: request.body.media };
    const participant = await service.addParticipant(callId, input);
    return reply.status(201).header('Location', participantPath(callId, participant.id)).send(participantResource(participant));
  });

  app.get<{ Params: CallParams }>(collection, async (request) => ({
    value: [...service.getCall(request.params.callId).participants.values()].map(participantResource),
  }));

  app.get<{ Params: ParticipantParams }>(item, { schema: participantIdSchema }, async (request) =>
    participantResource(service.getParticipant(request.params.callId, request.params.participantId)),
  );

  app.patch<{ Params: ParticipantParams; Body: UpdateBody }>(item, { schema: updateParticipantSchema }, async (request) => {
    const { callId, participantId } = request.params;
    return participantResource(await service.replaceParticipantMedia(callId, participantId, request.body.media));
  });

  app.delete<{ Params: ParticipantParams }>(item, { schema: participantIdSchema }, async (request, reply) => {
    await service.removeParticipant(request.params.callId, request.params.participantId);
    return reply.status(204).send();
  });
}
