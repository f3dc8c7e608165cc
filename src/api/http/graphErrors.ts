import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorKind } from '../../control/errors.js';
import { operationPath } from '../graph/resources.js';

/** Graph's top-level error codes by HTTP status; the specific reason goes in innerError.code. */
const graphCodeByStatus: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthenticated',
  403: 'accessDenied',
  404: 'itemNotFound',
  405: 'methodNotAllowed',
  409: 'conflict',
  413: 'requestEntityTooLarge',
  415: 'unsupportedMediaType',
  500: 'generalException',
  503: 'serviceUnavailable',
};

const statusByDomainKind: Record<DomainErrorKind, number> = {
  invalidRequest: 400,
  notFound: 404,
  conflict: 409,
  mediaUnavailable: 503,
};

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { code?: string; 'request-id': string; 'client-request-id'?: string; date: string };
  };
}

export function graphErrorBody(request: FastifyRequest, status: number, message: string, innerCode?: string): GraphErrorBody {
  const clientRequestId = request.headers['client-request-id'];
  return {
    error: {
      code: graphCodeByStatus[status] ?? (status >= 500 ? 'generalException' : 'badRequest'),
      message,
      innerError: {
        ...(innerCode ? { code: innerCode } : {}),
        'request-id': request.id,
        ...(typeof clientRequestId === 'string' ? { 'client-request-id': clientRequestId } : {}),
        date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    },
  };
}

/** Every error leaves in Graph's shape; nothing thrown by a handler can take the process down. */
export function graphErrorHandler(error: FastifyError | DomainError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof DomainError) {
    const status = statusByDomainKind[error.kind];
    if (error.operationId) {
      const callId = (request.params as { callId?: string }).callId;
      if (callId) void reply.header('Location', operationPath(callId, error.operationId));
    }
    if (status >= 500) request.log.warn({ err: error }, 'domain operation failed');
    return reply.status(status).send(graphErrorBody(request, status, error.message, error.code));
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return reply.status(400).send(graphErrorBody(request, 400, `invalid request: ${fastifyError.message}`, 'invalidRequestBody'));
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    return reply.status(status).send(graphErrorBody(request, status, fastifyError.message, fastifyError.code));
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.status(500).send(graphErrorBody(request, 500, 'internal server error', 'unhandledError'));
}
