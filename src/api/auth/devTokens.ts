import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { APP_ROLES } from './TokenVerifier.js';

/** The secret in config/default.json: fine on a laptop, never in production (the gateway warns). */
export const DEVELOPMENT_SECRET = 'mutegate-development-secret-change-me';

export type DevTokenSpec =
  | { role: 'app'; subject?: string }
  | { role: 'moderator'; subject: string; calls: string[] | '*' }
  | { role: 'participant'; subject: string; call: string; participant?: string };

/**
 * Mints an HS256 token for development and tests (npm run token). Production tokens come from
 * your identity provider (RS256/ES256 with auth.publicKeys).
 */
export async function mintDevToken(
  secret: string,
  spec: DevTokenSpec,
  opts: { expiresIn?: string | number; notBefore?: string | number; issuer?: string; audience?: string } = {},
): Promise<string> {
  const claims: Record<string, unknown> =
    spec.role === 'app'
      ? { roles: [APP_ROLES[0], APP_ROLES[2]] }
      : spec.role === 'moderator'
        ? { mutegate_role: 'moderator', calls: spec.calls }
        : { mutegate_role: 'participant', call: spec.call, ...(spec.participant ? { participant: spec.participant } : {}) };
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(spec.subject ?? 'mutegate-dev-app')
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? '12h');
  if (opts.notBefore !== undefined) jwt = jwt.setNotBefore(opts.notBefore);
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(createSecretKey(Buffer.from(secret, 'utf8')));
}
