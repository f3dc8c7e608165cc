import { SRTP_CRYPTO_SUITES } from '../../control/mediaPlane.js';
import { IDENTITY_LIMITS } from '../../control/identity.js';
import { SAFE_TEXT_PATTERN } from '../../control/text.js';
import { clientContextSchema } from '../graph/schemas.js';

/** JSON-schema pieces used by several routes. Bodies allow unknown properties (e.g. "@odata.type"), as Graph does. */

/**
 * A string the domain will store: bounded, well-formed Unicode, no control, separator or
 * bidi-override character (the domain checks the same, see control/text.ts).
 */
export const safeStringSchema = (maxLength: number, minLength = 0) =>
  ({ type: 'string', minLength, maxLength, pattern: SAFE_TEXT_PATTERN }) as const;

const shortString = safeStringSchema(IDENTITY_LIMITS.maxValueLength);
const propertyName = { type: 'string', maxLength: IDENTITY_LIMITS.maxPropertyNameLength, pattern: SAFE_TEXT_PATTERN } as const;

/**
 * Graph identity: id, displayName and a few more short strings (tenantId, identityProvider,
 * "@odata.type", …); nothing nested. The domain (control/identity.ts) applies the same bounds.
 */
const identity = {
  type: 'object',
  required: ['id'],
  maxProperties: IDENTITY_LIMITS.maxIdentityProperties,
  propertyNames: propertyName,
  properties: {
    id: safeStringSchema(IDENTITY_LIMITS.maxValueLength, 1),
    displayName: shortString,
  },
  additionalProperties: shortString,
} as const;

/** Graph identitySet: one identity plus a few short strings ("@odata.type", …); the domain checks that exactly one identity is present. */
export const identitySetSchema = {
  type: 'object',
  maxProperties: IDENTITY_LIMITS.maxSetProperties,
  propertyNames: propertyName,
  properties: { user: identity, application: identity, guest: identity, phone: identity },
  additionalProperties: shortString,
} as const;

export const participantInfoSchema = {
  type: 'object',
  required: ['identity'],
  properties: { identity: identitySetSchema },
} as const;

/** Dynamic RTP payload types only (RFC 3551 §6). */
const payloadType = { type: 'integer', minimum: 96, maximum: 127 } as const;
const ssrc = { type: 'integer', minimum: 1, maximum: 4294967295 } as const;

export const rtpSendSchema = {
  type: 'object',
  required: ['payloadType', 'ssrc'],
  // Other properties are accepted and ignored (README "HTTP API"), but not a malformed
  // audioLevelExtensionId: a new send stream keeps the join's id, and a PATCH naming a bad one
  // must be a 400, not a 200 that silently ignores it (the domain refuses a different id).
  properties: { payloadType, ssrc, audioLevelExtensionId: { type: 'integer', minimum: 1, maximum: 14 } },
} as const;

/** mutegate's plain-RTP media description (participants and the application's own leg). */
export const rtpMediaSchema = {
  type: 'object',
  required: ['kind', 'payloadType', 'ssrc'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['rtp'] },
    payloadType,
    ssrc,
    /** The id of the RFC 6464 ssrc-audio-level one-byte header extension the packets carry (speaker-aware forwarding). */
    audioLevelExtensionId: { type: 'integer', minimum: 1, maximum: 14 },
    /** SDES-keyed SRTP (RFC 4568 inline key: base64 of master key ‖ salt). Required for latching (no `receive`). */
    srtp: {
      type: 'object',
      required: ['cryptoSuite'],
      additionalProperties: false,
      properties: {
        cryptoSuite: { type: 'string', enum: [...SRTP_CRYPTO_SUITES] },
        keyBase64: { type: 'string', minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9+/]+={0,2}$' },
      },
    },
    receive: {
      type: 'object',
      required: ['ip', 'port'],
      additionalProperties: false,
      properties: {
        ip: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
      },
    },
  },
} as const;

export const clientContextBodySchema = {
  type: 'object',
  properties: { clientContext: clientContextSchema },
} as const;

export const callParamsSchema = {
  type: 'object',
  required: ['callId'],
  properties: { callId: { type: 'string' } },
} as const;

export const participantParamsSchema = {
  type: 'object',
  required: ['callId', 'participantId'],
  properties: { callId: { type: 'string' }, participantId: { type: 'string' } },
} as const;

export interface CallParams {
  callId: string;
}

export interface ParticipantParams extends CallParams {
  participantId: string;
}

export interface ClientContextBody {
  clientContext?: string;
}
