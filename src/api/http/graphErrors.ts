import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../control/errors.js';
import { AuthError } from '../auth/TokenVerifier.js';
import { graphError, statusByDomainKind, type GraphError } from '../graph/errors.js';
import { operationPath } from '../graph/resources.js';

export function graphErrorBody(request: FastifyRequest, status: number, message: string, innerCode?: string): { error: GraphError } {
  const clientRequestId = request.headers['client-request-id'];
  return graphError(
    status,
    message,
    { requestId: request.id, ...(typeof clientRequestId === 'string' ? { clientRequestId } : {}) },
    innerCode,
  );
}

/** Graph's `request-id` on every reply, and the caller's `client-request-id` echoed. */
export function setRequestIdHeaders(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('request-id', request.id);
  const clientRequestId = request.headers['client-request-id'];
  if (typeof clientRequestId === 'string') void reply.header('client-request-id', clientRequestId);
}

/**
 * A complete HTTP/1.1 error response in Graph's shape, for the places that have only a socket
 * (Node's clientError: header fields too large, unparsable request line). It has a fresh
 * request-id, since no request was ever created, and closes the connection: after a parse error
 * the rest of the stream cannot be trusted.
 */
export function rawGraphErrorResponse(status: number, message: string, innerCode?: string): string {
  const requestId = randomUUID();
  const body = JSON.stringify(graphError(status, message, { requestId }, innerCode));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `request-id: ${requestId}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Every error leaves in Graph's shape; nothing thrown by a handler can take the process down. */
export function graphErrorHandler(error: FastifyError | DomainError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AuthError) {
    if (error.status === 401) {
      void reply.header('WWW-Authenticate', `Bearer realm="mutegate", error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`);
    }
    return reply.status(error.status).send(graphErrorBody(request, error.status, error.message, error.code));
  }
  if (error instanceof DomainError) {
    const status = statusByDomainKind[error.kind];
    if (error.operationId) {
      const callId = (request.params as { callId?: string }).callId;
      if (callId) void reply.header('Location', operationPath(callId, error.operationId));
    }
    // A shutdown's 503 is expected, not a fault worth a stack trace per request.
    if (status >= 500 && error.code !== 'shuttingDown') request.log.warn({ err: error }, 'domain operation failed');
    // Every 429 is a rate (a token bucket refilling within a second or two): say when to come back,
    // as Graph's throttling does.
    if (status === 429) void reply.header('Retry-After', '1');
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
