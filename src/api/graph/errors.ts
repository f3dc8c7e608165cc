import { DomainError, type DomainErrorKind } from '../../control/errors.js';

/** Graph's top-level error codes by HTTP status; the specific reason goes in innerError.code. */
const graphCodeByStatus: Record<number, string> = {
  400: 'badRequest',
  401: 'InvalidAuthenticationToken',
  403: 'accessDenied',
  404: 'itemNotFound',
  405: 'methodNotAllowed',
  408: 'requestTimeout',
  409: 'conflict',
  413: 'requestEntityTooLarge',
  414: 'requestUriTooLong',
  415: 'unsupportedMediaType',
  431: 'requestHeaderFieldsTooLarge',
  429: 'tooManyRequests',
  500: 'generalException',
  503: 'serviceUnavailable',
};

export const statusByDomainKind: Record<DomainErrorKind, number> = {
  invalidRequest: 400,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  rateLimited: 429,
  mediaUnavailable: 503,
};

export function graphCodeFor(status: number): string {
  return graphCodeByStatus[status] ?? (status >= 500 ? 'generalException' : 'badRequest');
}

export interface GraphError {
  code: string;
  message: string;
  innerError: { code?: string; 'request-id': string; 'client-request-id'?: string; date: string };
}

/** Graph's `{ error: { code, message, innerError } }`, for any adapter. */
export function graphError(
  status: number,
  message: string,
  ids: { requestId: string; clientRequestId?: string },
  innerCode?: string,
): { error: GraphError } {
  return {
    error: {
      code: graphCodeFor(status),
      message,
      innerError: {
        ...(innerCode ? { code: innerCode } : {}),
        'request-id': ids.requestId,
        ...(ids.clientRequestId !== undefined ? { 'client-request-id': ids.clientRequestId } : {}),
        date: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    },
  };
}

/** Status and codes of a domain error, for adapters that are not HTTP. */
export function describeDomainError(err: DomainError): { status: number; code: string; innerCode: string; message: string } {
  const status = statusByDomainKind[err.kind];
  return { status, code: graphCodeFor(status), innerCode: err.code, message: err.message };
}
