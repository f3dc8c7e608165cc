import { callParamsSchema, clientContextBodySchema, participantParamsSchema } from '../shared.schema.js';

export const muteParticipantSchema = { params: participantParamsSchema, body: clientContextBodySchema } as const;
export const muteCallSchema = { params: callParamsSchema, body: clientContextBodySchema } as const;
