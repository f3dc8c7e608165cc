import { callParamsSchema, participantInfoSchema, participantParamsSchema, rtpMediaSchema, rtpSendSchema } from '../shared.schema.js';

export const joinParticipantSchema = {
  params: callParamsSchema,
  body: {
    type: 'object',
    required: ['info', 'media'],
    properties: { info: participantInfoSchema, media: rtpMediaSchema },
  },
} as const;

export const participantIdSchema = { params: participantParamsSchema } as const;

/** PATCH: a new send stream (new SSRC and/or payload type), as after a SIP re-INVITE. */
export const updateParticipantSchema = {
  params: participantParamsSchema,
  body: {
    type: 'object',
    required: ['media'],
    properties: { media: rtpSendSchema },
  },
} as const;
