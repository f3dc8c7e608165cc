import { CALL_LIMITS } from '../../../control/callInput.js';
import { FORWARDING_LIMITS } from '../../../control/forwarding.js';
import { UNSAFE_CHARACTERS } from '../../../control/text.js';
import { callParamsSchema, identitySetSchema, rtpMediaSchema, safeStringSchema } from '../shared.schema.js';

/** Graph participantInfo as a call's source or target: only its identity is kept. */
const participantInfo = { type: 'object', required: ['identity'], properties: { identity: identitySetSchema } } as const;

const bounded = ({ min, max }: { min: number; max: number }) => ({ type: 'integer', minimum: min, maximum: max }) as const;

/** Who hears whom (control/forwarding.ts checks the same); absent = the configured default (media.forwarding). */
const forwarding = {
  type: 'object',
  required: ['mode'],
  additionalProperties: false,
  properties: {
    mode: { type: 'string', enum: ['all', 'speakers', 'auto'] },
    maxSpeakers: bounded(FORWARDING_LIMITS.maxSpeakers),
    silenceDbov: bounded(FORWARDING_LIMITS.silenceDbov),
    speakersFrom: bounded(FORWARDING_LIMITS.speakersFrom),
  },
} as const;

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
      forwarding,
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
