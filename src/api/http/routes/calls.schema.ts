import { callParamsSchema, identitySetSchema, rtpMediaSchema } from '../shared.schema.js';

export const createCallSchema = {
  body: {
    type: 'object',
    properties: {
      subject: { type: 'string', maxLength: 1024 },
      // http(s) with a host; webhooks are POSTed there.
      callbackUri: { type: 'string', maxLength: 2048, pattern: '^https?://[^\\s/?#]+([/?#][^\\s]*)?$' },
      tenantId: { type: 'string', maxLength: 256 },
      source: { type: 'object', required: ['identity'], properties: { identity: identitySetSchema } },
      targets: {
        type: 'array',
        maxItems: 256,
        items: { type: 'object', required: ['identity'], properties: { identity: identitySetSchema } },
      },
      requestedModalities: { type: 'array', items: { type: 'string', enum: ['audio'] } },
      meetingInfo: { type: 'object' },
      chatInfo: { type: 'object' },
      media: rtpMediaSchema,
      muteOnEntry: { type: 'boolean' },
    },
  },
} as const;

/** PATCH: call settings a moderator can change. */
export const updateCallSchema = {
  params: callParamsSchema,
  body: {
    type: 'object',
    required: ['muteOnEntry'],
    additionalProperties: false,
    properties: { muteOnEntry: { type: 'boolean' } },
  },
} as const;

export const callIdSchema = { params: callParamsSchema } as const;
