import type { Principal } from '../../control/Principal.js';

interface Entry {
  principal: Principal;
  /** The token's `exp` claim (seconds since the epoch), if it has one. */
  exp: number | undefined;
}

/**
 * Principals of tokens whose signature and claims were already verified, by token string, so that
 * a client sending the same token again (a backend muting at rate) is not re-verified through
 * WebCrypto (HS256 in jose imports the key and runs HMAC on the thread pool: several event-loop
 * turns per request). A hit answers synchronously.
 *
 * Only successful verifications are stored, so only holders of a valid token can fill it; it is
 * bounded and forgets the least recently used token first. A token is served from here only
 * while jose would still accept its `exp` (the same comparison, with the same leeway); after
 * that it is dropped and verified again, which refuses it as expired. Nothing else about a token
 * changes with time once it verified (`nbf` only gets more true), and keys are fixed at start.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly capacity: number,
    private readonly clockToleranceSeconds: number,
  ) {}

  /** The principal of a verified, still unexpired token; undefined when it must be verified. */
  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    // jose's own check (jwt_claims_set.js): expired when exp <= now - tolerance, now in whole seconds.
    if (entry.exp !== undefined && entry.exp <= Math.floor(Date.now() / 1000) - this.clockToleranceSeconds) return undefined;
    // Re-inserted last: Map order is the recency order.
    this.entries.set(token, entry);
    return entry.principal;
  }

  set(token: string, principal: Principal, exp: unknown): void {
    if (this.capacity <= 0) return;
    this.entries.delete(token);
    this.entries.set(token, { principal, exp: typeof exp === 'number' ? exp : undefined });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
