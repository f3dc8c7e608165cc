import type { FastifyInstance } from 'fastify';
import { joinRtp, listParticipants, readParticipant, removeParticipant, replaceSendStream } from '../../../commands/participants.js';
import type { IdentitySet } from '../../../control/identity.js';
import type { RtpMediaSpec } from '../../../control/Participant.js';
import { principalOf } from '../authentication.js';
import { participantPath, participantsPath, participantView } from '../../graph/resources.js';
import type { CallParams, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { TAG } from '../docs.js';
import { noContent } from '../responses.schema.js';
import { joinParticipantSchema, listParticipantsSchema, participantIdSchema, updateParticipantSchema } from './participants.schema.js';

interface JoinBody {
  info: { identity: IdentitySet };
  media: RtpMediaSpec;
}

interface UpdateBody {
  media: { payloadType: number; ssrc: number };
}

/** The document's example of a join: plain RTP with SDES-SRTP, the gateway learns the address from the first authenticated packet. */
const joinExample = {
  info: { identity: { user: { id: 'agent-42', displayName: 'Agent 42' } } },
  media: { kind: 'rtp', payloadType: 111, ssrc: 305419896, srtp: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' } },
};

const tags = [TAG.participants];

export function participantRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const collection = participantsPath(':callId');
  const item = participantPath(':callId', ':participantId');

  const joinDoc = {
    tags,
    operationId: 'joinParticipant',
    summary: 'Join a plain-RTP participant',
    description: 'The reply carries the participant with its media: where to send RTP (`media.send`) and, with SRTP, the keys.',
    body: { ...joinParticipantSchema.body, examples: [joinExample] },
    locationOf: 'participant' as const,
  };
  app.post<{ Params: CallParams; Body: JoinBody }>(collection, { schema: { ...joinParticipantSchema, ...joinDoc } }, async (request, reply) => {
    const { callId } = request.params;
    const joined = await joinRtp(ctx, principalOf(request), callId, { identity: request.body.info.identity, media: request.body.media });
    return reply.status(201).header('Location', participantPath(callId, joined.participant.id)).send(participantView(joined));
  });

  const listDoc = { tags, operationId: 'listParticipants', summary: "List a call's participants" };
  app.get<{ Params: CallParams }>(collection, { schema: { ...listParticipantsSchema, ...listDoc } }, async (request) => ({
    value: listParticipants(ctx, principalOf(request), request.params.callId).map(participantView),
  }));

  const readDoc = { tags, operationId: 'getParticipant', summary: 'Read a participant (with its media for its own leg and the application)' };
  app.get<{ Params: ParticipantParams }>(item, { schema: { ...participantIdSchema, ...readDoc } }, async (request) =>
    participantView(readParticipant(ctx, principalOf(request), request.params.callId, request.params.participantId)),
  );

  const updateDoc = { tags, operationId: 'updateParticipant', summary: 'Announce a new send stream (SSRC, payload type), as after a re-INVITE' };
  app.patch<{ Params: ParticipantParams; Body: UpdateBody }>(item, { schema: { ...updateParticipantSchema, ...updateDoc } }, async (request) =>
    participantView(await replaceSendStream(ctx, principalOf(request), request.params.callId, request.params.participantId, request.body.media)),
  );

  const removeDoc = { tags, operationId: 'removeParticipant', summary: 'Remove a participant', docResponses: { 204: noContent } };
  app.delete<{ Params: ParticipantParams }>(item, { schema: { params: participantIdSchema.params, ...removeDoc } }, async (request, reply) => {
    await removeParticipant(ctx, principalOf(request), request.params.callId, request.params.participantId);
    return reply.status(204).send();
  });
}
