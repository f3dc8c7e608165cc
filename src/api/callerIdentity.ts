import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who is calling, for the "me" APIs (Genesys /api/v2/me/..., CometD /v2/me/calls): a user id,
 * which is the participant identity `user:<id>`. Until token authentication lands it comes from
 * the `X-Mutegate-User` header (HTTP) or `ext.userId` in the CometD handshake.
 */
export const CALLER_HEADER = 'x-mutegate-user';

export const userIdentityKey = (userId: string): string => `user:${userId}`;

export function callerFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const value = headers[CALLER_HEADER];
  return typeof value === 'string' && value.trim() !== '' && value.length <= 256 ? value.trim() : undefined;
}
