import { randomBytes } from 'node:crypto';
import type { Principal } from '../../control/Principal.js';

/** Carries, on a request this node injects for another node, the key of the principal that node verified. */
export const FORWARDED_HEADER = 'x-mutegate-forwarded';

/**
 * Principals of the requests this node serves for other nodes, each under a random one-time key
 * that only this process knows: a client sending the header itself gets nothing from it.
 */
export class ForwardedPrincipals {
  private readonly byKey = new Map<string, Principal>();

  issue(principal: Principal): string {
    const key = randomBytes(24).toString('base64url');
    this.byKey.set(key, principal);
    return key;
  }

  /** The principal under `key`, once. */
  take(key: unknown): Principal | undefined {
    if (typeof key !== 'string') return undefined;
    const principal = this.byKey.get(key);
    this.byKey.delete(key);
    return principal;
  }
}
