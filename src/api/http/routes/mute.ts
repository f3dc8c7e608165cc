import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler, onSendHookHandler } from 'fastify';
import type { Operation } from '../../../control/Operation.js';
import { mute, muteApplication, unmute } from '../../../commands/mute.js';
import { principalOf } from '../authentication.js';
import { callPath, operationPath, operationResource, participantPath } from '../../graph/resources.js';
import { arrivalOf, serverTiming, type RequestMarks } from '../serverTiming.js';
import type { CallParams, ClientContextBody, ParticipantParams } from '../shared.schema.js';
import type { RouteContext } from './context.js';
import { muteCallSchema, muteParticipantSchema } from './mute.schema.js';
import { TAG } from '../docs.js';
import { muteOperationResponse } from '../responses.schema.js';

/** Graph clients always send a JSON body, but a bodiless POST (curl -X POST) means "no clientContext". */
export function bodilessMeansEmpty(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (request.body === undefined) request.body = {};
  done();
}

/** When fastify received the request, on the process.hrtime clock the domain measures with. */
export function receivedAt(reply: FastifyReply): bigint {
  return process.hrtime.bigint() - BigInt(Math.round(reply.elapsedTime * 1e6));
}

/** 200 with the finished operation and its Location, once the media worker confirmed it. */
function sendOperation(reply: FastifyReply, operation: Operation): FastifyReply {
  return reply.header('Location', operationPath(operation.callId, operation.id)).send(operationResource(operation));
}

/** Each mute request's marks, for its Server-Timing header (see serverTiming). */
const marksOf = new WeakMap<FastifyRequest, RequestMarks>();

/** Route-level onRequest hooks run after the scope's: the token is verified by now. */
const markAuthenticated: onRequestHookHandler = (request, reply, done) => {
  const now = process.hrtime.bigint();
  const routedAt = now - BigInt(Math.round(reply.elapsedTime * 1e6));
  marksOf.set(request, { receivedAt: arrivalOf(request.raw) ?? routedAt, routedAt, authenticatedAt: now });
  done();
};

/** A successful mute says where its time went (Server-Timing: auth, parse, queue, worker, …). */
const addServerTiming: onSendHookHandler = (request, reply, payload, done) => {
  const marks = marksOf.get(request);
  if (marks?.answeredAt !== undefined) void reply.header('Server-Timing', serverTiming(marks, process.hrtime.bigint()));
  done(null, payload);
};

/** The document's description of a mute route (tags, id, summary, the operation it answers with). */
const doc = (operationId: string, summary: string) => ({ tags: [TAG.mute], operationId, summary, docResponses: { 200: muteOperationResponse }, locationOf: 'operation' as const });

/** The document's example body: the clientContext comes back in the operation and its notifications. */
const withExample = <T extends { body: object }>(schema: T) => ({ ...schema, body: { ...schema.body, examples: [{ clientContext: 'moderator-console' }] } });

export function muteRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const opts = (schema: object) => ({ schema: { ...schema, bodyOptional: true }, onRequest: markAuthenticated, preValidation: bodilessMeansEmpty, onSend: addServerTiming });
  /** The command's input from the request; marks the handler's start. */
  const meta = (request: FastifyRequest<{ Body: ClientContextBody }>, reply: FastifyReply) => {
    const marks = marksOf.get(request);
    if (marks) marks.handlerAt = process.hrtime.bigint();
    return { clientContext: request.body.clientContext, receivedAt: marks?.receivedAt ?? receivedAt(reply) };
  };
  /** The command's operation is back: marks it and takes the domain's timeline. */
  const answered = (request: FastifyRequest, operation: Operation): Operation => {
    const marks = marksOf.get(request);
    if (marks) {
      marks.answeredAt = process.hrtime.bigint();
      marks.operation = ctx.service.timelineOf(operation);
    }
    return operation;
  };

  app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(
    `${participantPath(':callId', ':participantId')}/mute`,
    opts({ ...withExample(muteParticipantSchema), ...doc('muteParticipant', 'Server-mute a participant (answered once the media worker paused its audio)') }),
    async (request, reply) =>
      sendOperation(reply, answered(request, await mute(ctx, principalOf(request), request.params.callId, request.params.participantId, meta(request, reply)))),
  );

  app.post<{ Params: ParticipantParams; Body: ClientContextBody }>(
    `${participantPath(':callId', ':participantId')}/unmute`,
    opts({ ...withExample(muteParticipantSchema), ...doc('unmuteParticipant', 'Server-unmute a participant') }),
    async (request, reply) =>
      sendOperation(reply, answered(request, await unmute(ctx, principalOf(request), request.params.callId, request.params.participantId, meta(request, reply)))),
  );

  // Graph: the application mutes/unmutes its own participant.
  for (const action of ['mute', 'unmute'] as const) {
    const actionDoc = doc(`${action}Application`, `${action === 'mute' ? 'Mute' : 'Unmute'} the application's own participant (Graph)`);
    app.post<{ Params: CallParams; Body: ClientContextBody }>(`${callPath(':callId')}/${action}`, opts({ ...muteCallSchema, ...actionDoc }), async (request, reply) =>
      sendOperation(reply, answered(request, await muteApplication(ctx, principalOf(request), request.params.callId, action === 'mute', meta(request, reply)))),
    );
  }
}
