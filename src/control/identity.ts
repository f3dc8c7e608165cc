/**
 * Who a participant is, as Graph's identitySet: exactly one of user, application, guest or phone.
 * The identity (not the participant id) carries the mute state, so a person who leaves and joins
 * again is still muted.
 */
export interface Identity {
  id: string;
  displayName?: string;
}

export type IdentityKind = 'user' | 'application' | 'guest' | 'phone';
export const IDENTITY_KINDS: readonly IdentityKind[] = ['user', 'application', 'guest', 'phone'];

export type IdentitySet = Partial<Record<IdentityKind, Identity>>;

/** The one identity in the set, as `kind:id`, e.g. `user:8f0c…`. Throws if there is not exactly one. */
export function identityKey(set: IdentitySet): string {
  const present = IDENTITY_KINDS.filter((kind) => set[kind] !== undefined);
  if (present.length !== 1) {
    throw new Error(`an identity set must hold exactly one of ${IDENTITY_KINDS.join(', ')}; got ${present.length}`);
  }
  const kind = present[0] as IdentityKind;
  return `${kind}:${(set[kind] as Identity).id}`;
}
