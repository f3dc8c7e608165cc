import { callParamsSchema, participantInfoSchema, participantParamsSchema, rtpMediaSchema, rtpSendSchema } from '../shared.schema.js';

/**
 * Response schemas: fastify serializes replies with them, so a field that is not declared here
 * never leaves the gateway, whatever the domain objects carry (least exposure by construction).
 */
const address = { type: ['object', 'null'], properties: { ip: { type: 'string' }, port: { type: 'integer' } } } as const;

const identityResponse = {
  type: 'object',
  properties: { id: { type: 'string' }, displayName: { type: 'string' } },
  // Bounded extra string properties (e.g. tenantId, "@odata.type"), as accepted on input.
  additionalProperties: { type: 'string' },
} as const;

export const participantResponse = {
  description: 'The Graph participant: with its media (addresses, SRTP keys) for its own leg and the application, the roster view otherwise.',
  type: 'object',
  required: ['id', 'info', 'isMuted'],
  properties: {
    '@odata.type': { type: 'string' },
    id: { type: 'string' },
    info: {
      type: 'object',
      properties: {
        '@odata.type': { type: 'string' },
        identity: {
          type: 'object',
          properties: { user: identityResponse, application: identityResponse, guest: identityResponse, phone: identityResponse },
          additionalProperties: { type: 'string' },
        },
      },
    },
    isMuted: { type: 'boolean' },
    isInLobby: { type: 'boolean' },
    locked: { type: 'boolean' },
    deafened: { type: 'boolean' },
    handRaised: { type: 'boolean' },
    talkingWhileMuted: { type: 'boolean' },
    dominantSpeaker: { type: 'boolean' },
    mediaStreams: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          '@odata.type': { type: 'string' },
          mediaType: { type: 'string' },
          label: { type: 'string' },
          sourceId: { type: 'string' },
          direction: { type: 'string' },
          serverMuted: { type: 'boolean' },
        },
      },
    },
    /** Present only on the participant's own leg and for the application (Policy.mayViewMedia). */
    media: {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['rtp', 'webrtc'] },
        state: { type: 'string' },
        payloadType: { type: 'integer' },
        ssrc: { type: 'integer' },
        audioLevelExtensionId: { type: ['integer', 'null'] },
        srtp: {
          type: ['object', 'null'],
          properties: { cryptoSuite: { type: 'string' }, sendKeyBase64: { type: 'string' }, receiveKeyBase64: { type: 'string' } },
        },
        send: address,
        receive: address,
        producerId: { type: ['string', 'null'] },
        receiveStreams: {
          type: 'array',
          items: { type: 'object', properties: { sourceParticipantId: { type: 'string' }, ssrc: { type: 'integer' }, payloadType: { type: 'integer' } } },
        },
      },
    },
  },
} as const;

export const joinParticipantSchema = {
  params: callParamsSchema,
  body: {
    type: 'object',
    required: ['info', 'media'],
    properties: { info: participantInfoSchema, media: rtpMediaSchema },
  },
  response: { 201: participantResponse },
} as const;

export const listParticipantsSchema = {
  params: callParamsSchema,
  response: { 200: { type: 'object', properties: { value: { type: 'array', items: participantResponse } } } },
} as const;

export const participantIdSchema = { params: participantParamsSchema, response: { 200: participantResponse } } as const;

/** PATCH: a new send stream (new SSRC and/or payload type), as after a SIP re-INVITE. */
export const updateParticipantSchema = {
  params: participantParamsSchema,
  body: {
    type: 'object',
    required: ['media'],
    properties: { media: rtpSendSchema },
  },
  response: { 200: participantResponse },
} as const;
