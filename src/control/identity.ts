import { DomainError } from './errors.js';
import { safeText } from './text.js';

/**
 * Who a participant is, as Graph's identitySet: exactly one of user, application, guest or phone.
 * The identity (not the participant id) carries the mute state, so a person who leaves and joins
 * again is still muted.
 *
 * Identities are stored and shown to every subscriber of the call, so what is kept is bounded
 * and serializable by construction: known string fields plus a few extra properties whose
 * values are short strings (e.g. Graph's tenantId, identityProvider, "@odata.type"); no nesting.
 */
export interface Identity {
  id: string;
  displayName?: string;
  /** Other Graph identity properties, kept as sent: short strings only. */
  [property: string]: string | undefined;
}

export type IdentityKind = 'user' | 'application' | 'guest' | 'phone';
export const IDENTITY_KINDS: readonly IdentityKind[] = ['user', 'application', 'guest', 'phone'];

export interface IdentitySet {
  user?: Identity;
  application?: Identity;
  guest?: Identity;
  phone?: Identity;
  /** Other identitySet properties ("@odata.type", endpointType, …): short strings only. */
  [property: string]: Identity | string | undefined;
}

/** The bounds of a stored identity; the JSON schemas (src/api/http/shared.schema.ts) use the same. */
export const IDENTITY_LIMITS = {
  /** id, displayName and every other string value, in code points. */
  maxValueLength: 256,
  maxPropertyNameLength: 64,
  /** Properties of one identity, id and displayName included. */
  maxIdentityProperties: 8,
  /** Properties of an identitySet: its one identity plus a few strings ("@odata.type", …). */
  maxSetProperties: 4,
} as const;

const CODE = 'invalidIdentity';

/** The one identity in the set, as `kind:id`, e.g. `user:8f0c…`. Throws if there is not exactly one. */
export function identityKey(set: IdentitySet): string {
  const present = IDENTITY_KINDS.filter((kind) => set[kind] !== undefined);
  if (present.length !== 1) {
    throw new Error(`an identity set must hold exactly one of ${IDENTITY_KINDS.join(', ')}; got ${present.length}`);
  }
  const kind = present[0] as IdentityKind;
  return `${kind}:${(set[kind] as Identity).id}`;
}

/**
 * A fresh, bounded copy of an identitySet from a request (never the request's own object), or a
 * DomainError (invalidRequest, invalidIdentity) saying what is refused. `where` names it in the
 * message, e.g. "info.identity".
 */
export function sanitizeIdentitySet(value: unknown, where: string): IdentitySet {
  const entries = plainEntries(value, where, IDENTITY_LIMITS.maxSetProperties);
  const set: IdentitySet = {};
  for (const [name, property] of entries) {
    set[name] = (IDENTITY_KINDS as readonly string[]).includes(name)
      ? sanitizeIdentity(property, `${where}.${name}`)
      : safeText(property, `${where}.${name}`, { maxLength: IDENTITY_LIMITS.maxValueLength }, CODE);
  }
  const present = IDENTITY_KINDS.filter((kind) => set[kind] !== undefined);
  if (present.length !== 1) {
    throw new DomainError('invalidRequest', CODE, `${where} must hold exactly one of ${IDENTITY_KINDS.join(', ')}; got ${present.length}`);
  }
  return set;
}

function sanitizeIdentity(value: unknown, where: string): Identity {
  const entries = plainEntries(value, where, IDENTITY_LIMITS.maxIdentityProperties);
  const copy: Record<string, string> = {};
  for (const [name, property] of entries) {
    copy[name] = safeText(property, `${where}.${name}`, { maxLength: IDENTITY_LIMITS.maxValueLength, minLength: name === 'id' ? 1 : 0 }, CODE);
  }
  if (copy.id === undefined) throw new DomainError('invalidRequest', CODE, `${where}.id is required`);
  return copy as Identity;
}

/** The own properties of a plain object, bounded in number and name length. */
function plainEntries(value: unknown, where: string, maxProperties: number): [string, unknown][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DomainError('invalidRequest', CODE, `${where} must be an object`);
  }
  const names = Object.keys(value);
  if (names.length > maxProperties) {
    throw new DomainError('invalidRequest', CODE, `${where} has ${names.length} properties; at most ${maxProperties} are accepted`);
  }
  for (const name of names) {
    // "__proto__" would not survive the copy as a property (assigning it sets the prototype).
    if (name === '__proto__') throw new DomainError('invalidRequest', CODE, `${where} may not have a "__proto__" property`);
    safeText(name, `a property name in ${where}`, { maxLength: IDENTITY_LIMITS.maxPropertyNameLength, minLength: 1 }, CODE);
  }
  return names.map((name) => [name, (value as Record<string, unknown>)[name]]);
}
