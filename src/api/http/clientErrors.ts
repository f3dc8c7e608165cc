import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { rawGraphErrorResponse } from './graphErrors.js';

/** What Node's HTTP parser reports, by error code: the status and Graph inner code to answer with. */
function describeClientError(code: string | undefined): { status: number; innerCode: string; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, innerCode: 'requestHeaderFieldsTooLarge', message: 'the request line and header fields exceed the size the server accepts' };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, innerCode: 'requestTimeout', message: 'the request was not received in time' };
  }
  return { status: 400, innerCode: 'malformedRequest', message: 'the request is not valid HTTP/1.1' };
}

/**
 * fastify's `clientErrorHandler`: a request Node's parser refused never becomes a fastify request,
 * so it is answered here, straight on the socket, in Graph's shape with a request-id like every
 * other reply.
 */
export function graphClientErrorHandler(log: Logger) {
  return (error: NodeJS.ErrnoException, socket: Duplex): void => {
    // A reset connection has nobody to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, innerCode, message } = describeClientError(error.code);
    log.debug({ err: error, status }, 'refused a request the HTTP parser could not accept');
    // As Node does by default: answer only if no response of this connection has begun, so a
    // half-sent response is never corrupted by this one.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    // end(), not destroy(): destroying with the client's unread bytes still queued would reset
    // the connection and could discard the answer before the client reads it. A client that
    // does not close its side in time is cut.
    socket.end(rawGraphErrorResponse(status, message, innerCode));
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}
