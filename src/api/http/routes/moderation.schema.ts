import { callParamsSchema, clientContextBodySchema, participantParamsSchema } from '../shared.schema.js';
import { clientContextSchema } from '../../graph/schemas.js';

export const participantActionSchema = { params: participantParamsSchema, body: clientContextBodySchema } as const;

export const muteAllSchema = {
  params: callParamsSchema,
  body: {
    type: 'object',
    properties: {
      clientContext: clientContextSchema,
      exceptParticipantIds: { type: 'array', maxItems: 1000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 128 } },
    },
  },
} as const;
