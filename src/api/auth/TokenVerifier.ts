import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, importSPKI, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from '../../control/Principal.js';
import type { GatewayConfig } from '../../config/schema.js';
import { VerifiedTokenCache } from './VerifiedTokenCache.js';

/** Verified tokens remembered (see VerifiedTokenCache): one per client that sends requests at rate. */
const VERIFIED_TOKEN_CACHE_SIZE = 4096;

/** Graph application permissions that make a token an application token. */
export const APP_ROLES = [
  'Calls.JoinGroupCall.All',
  'Calls.JoinGroupCallAsGuest.All',
  'Calls.Initiate.All',
  'Calls.InitiateGroupCall.All',
  'Calls.AccessMedia.All',
] as const;

/** Why a token was refused; adapters answer 401 (HTTP), close 4401 (WebSocket) or fail the handshake (CometD). */
export class AuthError extends Error {
  override name = 'AuthError';

  constructor(
    readonly code: 'missingToken' | 'invalidToken' | 'expiredToken' | 'noRole',
    message: string,
  ) {
    super(message);
  }

  /** 401 for a missing or bad token; 403 for a good token that grants nothing. */
  get status(): 401 | 403 {
    return this.code === 'noRole' ? 403 : 401;
  }
}

type Key = { alg: 'HS256' | 'RS256' | 'ES256'; key: KeyObject | Awaited<ReturnType<typeof importSPKI>>; kid?: string };

/**
 * Verifies bearer tokens with jose (signature, exp/nbf with leeway, iss/aud when configured)
 * and maps their claims to a Principal:
 * - `roles` containing a Graph calling permission (e.g. Calls.JoinGroupCall.All) → app
 * - `mutegate_role: "moderator"` with `calls: [callId, …]` (or "*") → moderator of those calls
 * - `mutegate_role: "participant"` with `call` and either `participant` (id) or `sub` (user id) → that participant
 */
export class TokenVerifier {
  private readonly verified: VerifiedTokenCache;

  private constructor(
    private readonly keys: Key[],
    private readonly options: GatewayConfig['auth'],
  ) {
    this.verified = new VerifiedTokenCache(VERIFIED_TOKEN_CACHE_SIZE, options.clockToleranceSeconds);
  }

  static async create(options: GatewayConfig['auth']): Promise<TokenVerifier> {
    const keys: Key[] = [];
    if (options.hs256Secret) keys.push({ alg: 'HS256', key: createSecretKey(Buffer.from(options.hs256Secret, 'utf8')) });
    for (const k of options.publicKeys) keys.push({ alg: k.alg, key: await importSPKI(k.pem, k.alg), ...(k.kid ? { kid: k.kid } : {}) });
    return new TokenVerifier(keys, options);
  }

  /** `Authorization: Bearer <token>` → the token, or undefined. */
  static fromAuthorizationHeader(header: string | undefined): string | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match?.[1];
  }

  /**
   * The principal of a valid token. A token verified before and not expired since is answered
   * from memory, without a new signature check (see VerifiedTokenCache).
   */
  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new AuthError('missingToken', 'no bearer token: send Authorization: Bearer <JWT>');
    const known = this.verified.get(token);
    if (known) return known;
    let payload: JWTPayload | undefined;
    let lastError: unknown;
    for (const { alg, key, kid } of this.keys) {
      try {
        const result = await jwtVerify(token, key, {
          algorithms: [alg],
          clockTolerance: this.options.clockToleranceSeconds,
          ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
          ...(this.options.audience ? { audience: this.options.audience } : {}),
        });
        if (kid && result.protectedHeader.kid && result.protectedHeader.kid !== kid) continue;
        payload = result.payload;
        break;
      } catch (err) {
        lastError = err;
        // An expired or not-yet-valid token has a good signature: no other key will do better.
        if (err instanceof joseErrors.JWTExpired) throw new AuthError('expiredToken', 'the token has expired');
        if (err instanceof joseErrors.JWTClaimValidationFailed) throw new AuthError('invalidToken', `the token was refused: ${err.message}`);
      }
    }
    if (!payload) {
      const reason = lastError instanceof joseErrors.JOSEError ? lastError.message : 'no key accepts it';
      throw new AuthError('invalidToken', `the token was refused: ${reason}`);
    }
    // Frozen: the same object now answers every later request with this token.
    const principal = Object.freeze(principalOf(payload));
    this.verified.set(token, principal, payload.exp);
    return principal;
  }
}

function principalOf(claims: JWTPayload): Principal {
  const subject = typeof claims.sub === 'string' ? claims.sub : '';
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  if (roles.some((r) => (APP_ROLES as readonly unknown[]).includes(r))) return { kind: 'app', subject: subject || 'application' };
  const role = claims.mutegate_role;
  if (role === 'moderator') {
    const calls = claims.calls;
    if (calls === '*') return { kind: 'moderator', subject, calls: 'all' };
    if (Array.isArray(calls) && calls.every((c) => typeof c === 'string')) return { kind: 'moderator', subject, calls: new Set(calls as string[]) };
    throw new AuthError('noRole', 'a moderator token needs a "calls" claim (call ids, or "*")');
  }
  if (role === 'participant') {
    const callId = claims.call;
    const participantId = claims.participant;
    if (typeof callId !== 'string' || (!subject && typeof participantId !== 'string')) {
      throw new AuthError('noRole', 'a participant token needs "call" and "sub" (user id) or "participant"');
    }
    return { kind: 'participant', subject, callId, ...(typeof participantId === 'string' ? { participantId } : {}) };
  }
  throw new AuthError('noRole', `the token grants no mutegate role (Graph app roles: ${APP_ROLES.join(', ')}; or mutegate_role)`);
}
