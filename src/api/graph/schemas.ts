/** JSON-schema pieces of Graph request bodies that several adapters (HTTP, WebSocket) validate alike. */

/** Graph: clientContext is a string of at most 256 characters. */
export const clientContextSchema = { type: 'string', maxLength: 256 } as const;
