import type { FastifyInstance } from 'fastify';
import type { Moderation } from '../../../control/Moderation.js';
import { principalOf } from '../authentication.js';
import { callPath, callResource, operationPath, operationResource, participantPath, participantResource } from '../../graph/resources.js';
import type { CallParams, ClientContextBody, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { updateCallSchema } from './calls.schema.js';
import { muteAllSchema, participantActionSchema } from './moderation.schema.js';
import { bodilessMeansEmpty } from './mute.js';

/** Moderation routes (mutegate extensions next to Graph's): lock, deafen, requestUnmute, mute all, hands, mute on entry. */
export function moderationRoutes(app: FastifyInstance, { service, policy }: RouteContext, moderation: Moderation): void {
  const item = participantPath(':callId', ':participantId');
  const opts = { schema: participantActionSchema, preValidation: bodilessMeansEmpty };

  const moderatorActions = {
    lock: 'lock',
    unlock: 'unlock',
    deafen: 'deafen',
    undeafen: 'undeafen',
    requestUnmute: 'requestUnmute',
  } as const satisfies Record<string, keyof Moderation>;
  for (const [path, method] of Object.entries(moderatorActions)) {
    app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(`${item}/${path}`, opts, async (request, reply) => {
      const { callId, participantId } = request.params;
      const call = service.getCall(callId);
      service.getParticipant(callId, participantId);
      policy.requireModerator(principalOf(request), call, path);
      const operation = await moderation[method](callId, participantId, request.body.clientContext);
      return reply.header('Location', operationPath(callId, operation.id)).send(operationResource(operation));
    });
  }

  // Hands: raised by the person itself; lowered by it or a moderator.
  for (const raised of [true, false]) {
    app.post<{ Params: ParticipantParams }>(`${item}/${raised ? 'raiseHand' : 'lowerHand'}`, { schema: { params: participantActionSchema.params } }, async (request) => {
      const { callId, participantId } = request.params;
      const call = service.getCall(callId);
      const target = service.getParticipant(callId, participantId);
      policy.roleFor(principalOf(request), call, target, raised ? 'raise the hand of' : 'lower the hand of');
      return participantResource(await moderation.setHand(callId, participantId, raised));
    });
  }

  app.post<{ Params: CallParams; Body: ClientContextBody & { exceptParticipantIds?: string[] } }>(
    `${callPath(':callId')}/muteAll`,
    { schema: muteAllSchema, preValidation: bodilessMeansEmpty },
    async (request, reply) => {
      const { callId } = request.params;
      const role = policy.requireModerator(principalOf(request), service.getCall(callId), 'mute all');
      const operation = await moderation.muteAll(callId, request.body.exceptParticipantIds ?? [], role, request.body.clientContext);
      return reply.header('Location', operationPath(callId, operation.id)).send(operationResource(operation));
    },
  );

  app.patch<{ Params: CallParams; Body: { muteOnEntry: boolean } }>(callPath(':callId'), { schema: updateCallSchema }, async (request) => {
    const call = service.getCall(request.params.callId);
    policy.requireModerator(principalOf(request), call, 'changing call settings');
    return callResource(moderation.setMuteOnEntry(call.id, request.body.muteOnEntry));
  });
}
