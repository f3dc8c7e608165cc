import { Ajv } from 'ajv';
import type { Call } from '../../control/Call.js';
import type { RosterChange } from '../../control/CallService.js';
import type { Operation } from '../../control/Operation.js';
import { clientContextSchema } from '../graph/schemas.js';

/**
 * The WebSocket protocol independent of its encoding: what clients ask (ClientRequest) and what
 * the server sends (ServerEvent). jsonCodec and protoCodec translate these to and from frames.
 */

export const JSON_SUBPROTOCOL = 'mutegate.v1.json';
export const PROTO_SUBPROTOCOL = 'mutegate.v1.proto';

interface RequestBase {
  requestId: string;
}

export type ClientRequest =
  | (RequestBase & { type: 'subscribe' | 'unsubscribe' | 'resync'; callId: string })
  | (RequestBase & { type: 'mute' | 'unmute'; callId: string; participantId: string; clientContext?: string });

export type ServerEvent =
  | { type: 'snapshot'; call: Call; requestId?: string }
  | { type: 'delta'; call: Call; change: RosterChange }
  | { type: 'ack'; requestId: string; callId: string }
  | { type: 'operation'; requestId: string; operation: Operation }
  | { type: 'error'; requestId?: string; status: number; code: string; innerCode: string; message: string };

/** A frame the server could not accept; answered with an error event, the connection stays. */
export class FrameError extends Error {
  override name = 'FrameError';

  constructor(
    readonly innerCode: 'badFrame' | 'invalidRequest' | 'unknownMessageType' | 'wrongFrameType',
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
const requestSchema = {
  type: 'object',
  required: ['type', 'requestId', 'callId'],
  properties: {
    type: { enum: ['subscribe', 'unsubscribe', 'resync', 'mute', 'unmute'] },
    requestId: id,
    callId: id,
    participantId: id,
    clientContext: clientContextSchema,
  },
  additionalProperties: false,
  if: { properties: { type: { enum: ['mute', 'unmute'] } } },
  then: { required: ['participantId'] },
  else: { not: { anyOf: [{ required: ['participantId'] }, { required: ['clientContext'] }] } },
} as const;

// strictRequired is off: the if/then branches name properties declared at the top level.
const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false });
const validateRequest = ajv.compile<ClientRequest>(requestSchema);

export const REQUEST_TYPES = requestSchema.properties.type.enum;

/** Checks a decoded request the same way in both encodings (and as strictly as the HTTP API). */
export function validateClientRequest(candidate: unknown): ClientRequest {
  if (validateRequest(candidate)) return candidate;
  const requestId = typeof (candidate as { requestId?: unknown })?.requestId === 'string' ? (candidate as { requestId: string }).requestId : undefined;
  const type = (candidate as { type?: unknown })?.type;
  if (typeof type !== 'string' || !(REQUEST_TYPES as readonly string[]).includes(type)) {
    throw new FrameError('unknownMessageType', `unknown message type ${JSON.stringify(type)}; expected one of ${REQUEST_TYPES.join(', ')}`, requestId);
  }
  const err = validateRequest.errors?.[0];
  const where = err?.instancePath ? err.instancePath.slice(1) : 'message';
  throw new FrameError('invalidRequest', `invalid ${type} request: ${where} ${err?.message ?? 'is invalid'}`, requestId);
}
