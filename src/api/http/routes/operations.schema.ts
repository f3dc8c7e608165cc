export const getOperationSchema = {
  params: {
    type: 'object',
    required: ['callId', 'operationId'],
    properties: { callId: { type: 'string' }, operationId: { type: 'string' } },
  },
} as const;
