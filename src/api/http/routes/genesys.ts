import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../../control/errors.js';
import { AuthError } from '../../auth/TokenVerifier.js';
import { userIdentityKey } from '../../callerIdentity.js';
import { principalOf } from '../authentication.js';
import type { RouteContext } from './context.js';
import { receivedAt } from './mute.js';
import type { Moderation } from '../../../control/Moderation.js';
import { capabilitiesOf, GENESYS_OPERATIONS, genesysCallResource, type GenesysOperation } from '../../genesys/callResource.js';
import { statusByDomainKind } from '../../graph/errors.js';
import { genesysCallParamsSchema, genesysOperationSchema } from './genesys.schema.js';

/**
 * Genesys Workspace Voice API: `statusCode` 0 is success; anything else comes with a
 * `statusMessage` and the matching HTTP status.
 */
export const GenesysStatus = {
  ok: 0,
  invalidRequest: 1,
  unauthenticated: 2,
  notFound: 3,
  notAllowed: 4,
  unavailable: 5,
  internal: 6,
} as const;

const genesysStatusByHttp: Record<number, number> = {
  400: GenesysStatus.invalidRequest,
  401: GenesysStatus.unauthenticated,
  403: GenesysStatus.unauthenticated,
  404: GenesysStatus.notFound,
  409: GenesysStatus.notAllowed,
  413: GenesysStatus.invalidRequest,
  415: GenesysStatus.invalidRequest,
  503: GenesysStatus.unavailable,
};

class GenesysError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

function sendGenesysError(reply: FastifyReply, httpStatus: number, message: string): FastifyReply {
  return reply.status(httpStatus).send({ statusCode: genesysStatusByHttp[httpStatus] ?? GenesysStatus.internal, statusMessage: message });
}

function genesysErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof GenesysError) return sendGenesysError(reply, error.httpStatus, error.message);
  if (error instanceof AuthError) {
    if (error.status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="mutegate", error="invalid_token"');
    return sendGenesysError(reply, error.status, error.message);
  }
  if (error instanceof DomainError) return sendGenesysError(reply, statusByDomainKind[error.kind], error.message);
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return sendGenesysError(reply, 400, `invalid request: ${fastifyError.message}`);
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) return sendGenesysError(reply, status, fastifyError.message);
  request.log.error({ err: error }, 'unhandled error in Genesys API');
  return sendGenesysError(reply, 500, 'internal server error');
}

/** The agent ("me") of this request: the token's subject, a user id. */
function callerOf(request: FastifyRequest): string {
  const { subject } = principalOf(request);
  if (!subject) throw new GenesysError(403, 'the token names no agent (no "sub" claim)');
  return subject;
}

/** Genesys Workspace Voice routes under /api/v2/me/calls, with Genesys-shaped errors. */
export function genesysRoutes(app: FastifyInstance, { service }: RouteContext, moderation: Moderation, baseUrl: () => string): void {
  void app.register(async (scope) => {
    scope.setErrorHandler(genesysErrorHandler);

    scope.get('/api/v2/me/calls', async (request) => {
      const me = userIdentityKey(callerOf(request));
      const calls = service.callsOfIdentity(me).map(({ call, participant }) => genesysCallResource(call, participant, baseUrl()));
      return { statusCode: GenesysStatus.ok, data: { calls } };
    });

    scope.get<{ Params: { callId: string } }>('/api/v2/me/calls/:callId', { schema: { params: genesysCallParamsSchema } }, async (request) => {
      const me = userIdentityKey(callerOf(request));
      const participant = service.participantOfIdentity(request.params.callId, me);
      const call = service.getCall(request.params.callId);
      return { statusCode: GenesysStatus.ok, data: { call: genesysCallResource(call, participant, baseUrl()) } };
    });

    scope.post<{ Params: { callId: string }; Body: { operationName: string } }>(
      '/api/v2/me/calls/:callId',
      { schema: genesysOperationSchema },
      async (request, reply) => {
        const received = receivedAt(reply);
        const userId = callerOf(request);
        const { operationName } = request.body;
        if (!(GENESYS_OPERATIONS as readonly string[]).includes(operationName)) {
          throw new GenesysError(400, `unknown operationName "${operationName}"; supported: ${GENESYS_OPERATIONS.join(', ')}`);
        }
        const participant = service.participantOfIdentity(request.params.callId, userIdentityKey(userId));
        if (!capabilitiesOf(participant).includes(operationName as GenesysOperation)) {
          const why = participant.locked ? 'a moderator locked the mute' : participant.isMuted ? 'the call is muted' : 'the call is not muted';
          throw new GenesysError(409, `${operationName} is not among the call's capabilities (${capabilitiesOf(participant).join(', ')}): ${why}`);
        }
        if (operationName === 'MuteCall') await service.muteOwn(request.params.callId, participant.id, undefined, received);
        else if (operationName === 'UnmuteCall') await service.unmuteOwn(request.params.callId, participant.id, undefined, received);
        else await moderation.setHand(request.params.callId, participant.id, operationName === 'RaiseHand');
        return { statusCode: GenesysStatus.ok };
      },
    );
  });
}
