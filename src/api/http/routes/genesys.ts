import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../../control/errors.js';
import { AuthError } from '../../auth/TokenVerifier.js';
import { principalOf } from '../authentication.js';
import type { RouteContext } from './context.js';
import { receivedAt } from './mute.js';
import { AGENT_OPERATIONS, agentOperation, readAgentCall, readAgentCalls } from '../../../commands/agent.js';
import { genesysCallResource } from '../../genesys/callResource.js';
import { statusByDomainKind } from '../../graph/errors.js';
import { genesysCallParamsSchema, genesysOperationSchema } from './genesys.schema.js';
import { TAG } from '../docs.js';
import { documentErrorShape } from '../openapi.js';
import { genesysCallListResponse, genesysCallResponse, genesysOkResponse } from '../responses.schema.js';

const tags = [TAG.genesys];

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
  // Too many of the agent's own requests at once: try again once they are answered.
  429: GenesysStatus.unavailable,
  503: GenesysStatus.unavailable,
};

function sendGenesysError(reply: FastifyReply, httpStatus: number, message: string): FastifyReply {
  return reply.status(httpStatus).send({ statusCode: genesysStatusByHttp[httpStatus] ?? GenesysStatus.internal, statusMessage: message });
}

function genesysErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
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

/** Genesys Workspace Voice routes under /api/v2/me/calls, with Genesys-shaped errors. "me" is decided by the agent commands. */
export function genesysRoutes(app: FastifyInstance, ctx: RouteContext, baseUrl: () => string): void {
  void app.register(async (scope) => {
    scope.setErrorHandler(genesysErrorHandler);
    documentErrorShape(scope, 'genesys');

    const listDoc = { tags, operationId: 'genesysListCalls', summary: "The agent's calls", docResponses: { 200: genesysCallListResponse } };
    scope.get('/api/v2/me/calls', { schema: listDoc }, async (request) => {
      const calls = readAgentCalls(ctx, principalOf(request)).map(({ call, participant }) => genesysCallResource(call, participant, baseUrl()));
      return { statusCode: GenesysStatus.ok, data: { calls } };
    });

    const readDoc = { tags, operationId: 'genesysGetCall', summary: 'One of the agent\'s calls', docResponses: { 200: genesysCallResponse } };
    scope.get<{ Params: { callId: string } }>('/api/v2/me/calls/:callId', { schema: { params: genesysCallParamsSchema, ...readDoc } }, async (request) => {
      const { call, participant } = readAgentCall(ctx, principalOf(request), request.params.callId);
      return { statusCode: GenesysStatus.ok, data: { call: genesysCallResource(call, participant, baseUrl()) } };
    });

    scope.post<{ Params: { callId: string }; Body: { operationName: string } }>(
      '/api/v2/me/calls/:callId',
      {
        schema: {
          ...genesysOperationSchema,
          tags,
          operationId: 'genesysCallOperation',
          summary: "An operation on the agent's call",
          description: `\`operationName\`: ${AGENT_OPERATIONS.join(', ')}; the call's \`capabilities\` say which apply now (another is refused: 409, statusCode 4).`,
          docResponses: { 200: genesysOkResponse },
        },
      },
      async (request, reply) => {
        await agentOperation(ctx, principalOf(request), request.params.callId, request.body.operationName, receivedAt(reply));
        return { statusCode: GenesysStatus.ok };
      },
    );
  });
}
