import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UNAUTHENTICATED_APP, type Principal } from '../../control/Principal.js';
import { TokenVerifier } from '../auth/TokenVerifier.js';
import { FORWARDED_HEADER, type ForwardedPrincipals } from './forwardedPrincipals.js';
import { documentBearerAuth } from './openapi.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook of the protected scope; null elsewhere. */
    principal: Principal | null;
    /** Served for another node of the cluster, which verified the principal (see callHosting.ts). */
    forwarded: boolean;
  }
}

export interface AuthenticationOptions {
  /** Null when authentication is switched off: every request acts as the application. */
  verifier: TokenVerifier | null;
  /** With a cluster: principals of requests other nodes forwarded here (see callHosting.ts). */
  forwarded?: ForwardedPrincipals;
  /**
   * Counts each verified request against its principal's request rate (limits.requestsPerSecond),
   * throwing its 429; a request forwarded by another node was counted there.
   */
  admit?: (principal: Principal) => void;
}

/**
 * Registers `routes` in their own fastify scope (an encapsulated plugin) whose onRequest hook
 * verifies `Authorization: Bearer <JWT>` before anything else of the route runs. Whether a
 * request is authenticated is decided by the route it was routed to (after the router decoded
 * the path), never by matching the raw URL: `/%63ommunications/calls` is the calls route and is
 * authenticated like it.
 *
 * A failure is thrown as AuthError, so it reaches the error handler of the route's own scope and
 * each API answers in its own shape (Graph 401 with WWW-Authenticate, Genesys statusCode 2).
 */
export function registerAuthenticated(app: FastifyInstance, options: AuthenticationOptions, routes: (scope: FastifyInstance) => void): void {
  void app.register(async (scope) => {
    scope.decorateRequest('principal', null);
    scope.decorateRequest('forwarded', false);
    // The document says which routes need the token from where they are registered, not from a list.
    if (options.verifier) documentBearerAuth(scope);
    scope.addHook('onRequest', async (request) => {
      const forwarded = options.forwarded?.take(request.headers[FORWARDED_HEADER]);
      if (forwarded) {
        request.principal = forwarded;
        request.forwarded = true;
        return;
      }
      request.principal = options.verifier
        ? await options.verifier.verify(TokenVerifier.fromAuthorizationHeader(request.headers.authorization))
        : UNAUTHENTICATED_APP;
      options.admit?.(request.principal);
    });
    routes(scope);
  });
}

/** The verified principal of a protected route's request. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principalOf() on a route outside the authenticated scope');
  return request.principal;
}
