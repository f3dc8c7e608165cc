import { clientContextSchema } from '../graph/schemas.js';

/** JSON-schema pieces used by several routes. Bodies allow unknown properties (e.g. "@odata.type"), as Graph does. */

const identity = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 256 },
    displayName: { type: 'string', maxLength: 256 },
  },
} as const;

/** Graph identitySet; the domain checks that exactly one identity is present. */
export const identitySetSchema = {
  type: 'object',
  properties: { user: identity, application: identity, guest: identity, phone: identity },
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
  properties: { payloadType, ssrc },
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
