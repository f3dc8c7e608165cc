import { DomainError } from '../../src/control/errors.js';
import type { IdentitySet } from '../../src/control/identity.js';

/** A user identity as Graph sends it. */
export const user = (id: string): IdentitySet => ({ user: { id, displayName: id } });

/** The DomainError a promise rejects with (anything else, or success, fails the test). */
export async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError, got success');
}
