import { CALL_LIMITS } from '../../../control/callInput.js';
import { UNSAFE_CHARACTERS } from '../../../control/text.js';
import { callParamsSchema, identitySetSchema, rtpMediaSchema, safeStringSchema } from '../shared.schema.js';

/** Graph participantInfo as a call's source or target: only its identity is kept. */
const participantInfo = { type: 'object', required: ['identity'], properties: { identity: identitySetSchema } } as const;

export const createCallSchema = {
  body: {
    type: 'object',
    properties: {
      // What the call stores is bounded, well-formed text (the domain checks the same, see control/callInput.ts).
      subject: safeStringSchema(CALL_LIMITS.subject),
      // http(s) with a host; webhooks are POSTed there.
      callbackUri: {
        type: 'string',
        maxLength: CALL_LIMITS.callbackUri,
        pattern: `^https?://[^\\s/?#${UNSAFE_CHARACTERS}]+([/?#][^\\s${UNSAFE_CHARACTERS}]*)?$`,
      },
      tenantId: safeStringSchema(CALL_LIMITS.tenantId),
      source: participantInfo,
      targets: { type: 'array', maxItems: CALL_LIMITS.targets, items: participantInfo },
      requestedModalities: { type: 'array', maxItems: 4, items: { type: 'string', enum: ['audio'] } },
      // Only their presence matters (a meeting is a group call); neither is stored.
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
