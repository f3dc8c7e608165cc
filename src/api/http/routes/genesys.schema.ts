export const genesysCallParamsSchema = {
  type: 'object',
  required: ['callId'],
  properties: { callId: { type: 'string', maxLength: 128 } },
} as const;

/** The operation is checked by the route (unknown names get their own statusCode), so any string passes here. */
export const genesysOperationSchema = {
  params: genesysCallParamsSchema,
  body: {
    type: 'object',
    required: ['operationName'],
    properties: { operationName: { type: 'string', maxLength: 64 } },
  },
} as const;
