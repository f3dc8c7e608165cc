import type { FastifyInstance } from 'fastify';
import type { JoinInput } from '../../../control/CallService.js';
import type { IdentitySet } from '../../../control/identity.js';
import type { RtpMediaSpec } from '../../../control/Participant.js';
import { principalOf } from '../authentication.js';
import { participantPath, participantResource, participantsPath } from '../../graph/resources.js';
import type { CallParams, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { joinParticipantSchema, participantIdSchema, updateParticipantSchema } from './participants.schema.js';

interface JoinBody {
  info: { identity: IdentitySet };
  media: RtpMediaSpec;
}

interface UpdateBody {
  media: { payloadType: number; ssrc: number };
}

export function participantRoutes(app: FastifyInstance, { service, policy }: RouteContext): void {
  const collection = participantsPath(':callId');
  const item = participantPath(':callId', ':participantId');

  app.post<{ Params: CallParams; Body: JoinBody }>(collection, { schema: joinParticipantSchema }, async (request, reply) => {
    const { callId } = request.params;
    const principal = principalOf(request);
    const call = service.getCall(callId);
    // A moderator adds anyone; a participant token may only join as its own user.
    const selfJoin = principal.kind === 'participant' && principal.callId === callId && request.body.info.identity.user?.id === principal.subject;
    if (!selfJoin) policy.requireModerator(principal, call, 'adding a participant');
    const input: JoinInput = { identity: request.body.info.identity, media: request.body.media };
    const participant = await service.addParticipant(callId, input);
    return reply.status(201).header('Location', participantPath(callId, participant.id)).send(participantResource(participant));
  });

  app.get<{ Params: CallParams }>(collection, async (request) => {
    const call = service.getCall(request.params.callId);
    policy.requireCallAccess(principalOf(request), call);
    return { value: [...call.participants.values()].map(participantResource) };
  });

  app.get<{ Params: ParticipantParams }>(item, { schema: participantIdSchema }, async (request) => {
    const call = service.getCall(request.params.callId);
    policy.requireCallAccess(principalOf(request), call);
    return participantResource(service.getParticipant(call.id, request.params.participantId));
  });

  app.patch<{ Params: ParticipantParams; Body: UpdateBody }>(item, { schema: updateParticipantSchema }, async (request) => {
    const { callId, participantId } = request.params;
    const call = service.getCall(callId);
    policy.roleFor(principalOf(request), call, service.getParticipant(callId, participantId), 'change');
    return participantResource(await service.replaceParticipantMedia(callId, participantId, request.body.media));
  });

  app.delete<{ Params: ParticipantParams }>(item, { schema: participantIdSchema }, async (request, reply) => {
    const { callId, participantId } = request.params;
    const call = service.getCall(callId);
    policy.roleFor(principalOf(request), call, service.getParticipant(callId, participantId), 'remove');
    await service.removeParticipant(callId, participantId);
    return reply.status(204).send();
  });
}

