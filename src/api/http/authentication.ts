import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UNAUTHENTICATED_APP, type Principal } from '../../control/Principal.js';
import { TokenVerifier } from '../auth/TokenVerifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every protected route. */
    principal: Principal | null;
  }
}

export interface AuthenticationOptions {
  /** Null when authentication is switched off: every request acts as the application. */
  verifier: TokenVerifier | null;
  publicMetrics: boolean;
}

/** Paths anyone may call: health, the static page, and /metrics when configured public. */
function isPublic(path: string, publicMetrics: boolean): boolean {
  if (path.startsWith('/communications/') || path === '/communications' || path.startsWith('/api/')) return false;
  if (path === '/metrics') return publicMetrics;
  return true;
}

/**
 * Verifies `Authorization: Bearer <JWT>` before any protected route runs. A failure is thrown
 * as AuthError, so each API answers in its own shape (Graph 401 with WWW-Authenticate, Genesys
 * statusCode 2).
 */
export function authentication(app: FastifyInstance, options: AuthenticationOptions): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '') || '/';
    if (isPublic(path, options.publicMetrics)) return;
    request.principal = options.verifier
      ? await options.verifier.verify(TokenVerifier.fromAuthorizationHeader(request.headers.authorization))
      : UNAUTHENTICATED_APP;
  });
}

/** The verified principal of a protected route's request. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principalOf() on a route without authentication');
  return request.principal;
}
