import { Ajv, type ValidateFunction } from 'ajv';
import type { Call } from '../../control/Call.js';
import type { RosterChange } from '../../control/CallService.js';
import type { ConsumerOffer, SignalingBlob } from '../../control/mediaPlane.js';
import type { Operation } from '../../control/Operation.js';
import { clientContextSchema } from '../graph/schemas.js';
import { MAX_REQUEST_NESTING, nestsDeeperThan } from '../../lib/jsonNesting.js';

/**
 * The WebSocket protocol independent of its encoding: what clients ask (ClientRequest) and what
 * the server sends (ServerEvent). jsonCodec and protoCodec translate these to and from frames.
 * Roster requests (subscribe, resync, unsubscribe), mute requests, and WebRTC signaling
 * (getRouterRtpCapabilities, join, createTransport, connectTransport, produce, resumeConsumer,
 * leave) share one connection.
 */

export const JSON_SUBPROTOCOL = 'mutegate.v1.json';
export const PROTO_SUBPROTOCOL = 'mutegate.v1.proto';

interface Base {
  requestId: string;
  callId: string;
}

interface OwnParticipant extends Base {
  participantId: string;
}

export type ClientRequest =
  | (Base & { type: 'subscribe' | 'unsubscribe' | 'resync' | 'getRouterRtpCapabilities' })
  | (OwnParticipant & { type: 'mute' | 'unmute'; clientContext?: string })
  | (Base & { type: 'join'; userId: string; displayName?: string; rtpCapabilities: SignalingBlob })
  | (OwnParticipant & { type: 'createTransport'; direction: 'send' | 'recv' })
  | (OwnParticipant & { type: 'connectTransport'; transportId: string; dtlsParameters: SignalingBlob })
  | (OwnParticipant & { type: 'produce'; transportId: string; kind: 'audio'; rtpParameters: SignalingBlob })
  | (OwnParticipant & { type: 'resumeConsumer'; consumerId: string })
  | (OwnParticipant & { type: 'leave' })
  | (OwnParticipant & { type: ParticipantAction; clientContext?: string })
  | (Base & { type: 'muteAll'; exceptParticipantIds?: string[]; clientContext?: string });

/** Moderation and hand actions on one participant (same rules as their HTTP routes). */
export const PARTICIPANT_ACTIONS = ['requestUnmute', 'lock', 'unlock', 'deafen', 'undeafen', 'raiseHand', 'lowerHand'] as const;
export type ParticipantAction = (typeof PARTICIPANT_ACTIONS)[number];

export type RequestType = ClientRequest['type'];

/** Answers to signaling requests, carried as the response body. */
export type SignalingResult = Record<string, unknown>;

export type ServerEvent =
  | { type: 'snapshot'; call: Call; requestId?: string }
  | { type: 'delta'; call: Call; change: RosterChange }
  | { type: 'ack'; requestId: string; callId: string }
  | { type: 'operation'; requestId: string; operation: Operation }
  | { type: 'result'; requestId: string; body: SignalingResult }
  | { type: 'consumer'; callId: string; participantId: string; offer: ConsumerOffer }
  | { type: 'consumerClosed'; callId: string; participantId: string; consumerId: string }
  | { type: 'reconnect'; callId: string; participantId: string; reason: string }
  | { type: 'unmuteRequested'; callId: string; participantId: string; clientContext?: string }
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
const blob = { type: 'object' } as const;

function request(type: RequestType, properties: Record<string, unknown>, required: string[]) {
  return {
    type: 'object',
    required: ['type', 'requestId', 'callId', ...required],
    additionalProperties: false,
    properties: { type: { const: type }, requestId: id, callId: id, ...properties },
  };
}

const own = { participantId: id };
const schemas = {
  subscribe: request('subscribe', {}, []),
  unsubscribe: request('unsubscribe', {}, []),
  resync: request('resync', {}, []),
  getRouterRtpCapabilities: request('getRouterRtpCapabilities', {}, []),
  mute: request('mute', { ...own, clientContext: clientContextSchema }, ['participantId']),
  unmute: request('unmute', { ...own, clientContext: clientContextSchema }, ['participantId']),
  join: request(
    'join',
    { userId: { type: 'string', minLength: 1, maxLength: 256 }, displayName: { type: 'string', maxLength: 256 }, rtpCapabilities: blob },
    ['userId', 'rtpCapabilities'],
  ),
  createTransport: request('createTransport', { ...own, direction: { enum: ['send', 'recv'] } }, ['participantId', 'direction']),
  connectTransport: request('connectTransport', { ...own, transportId: id, dtlsParameters: blob }, ['participantId', 'transportId', 'dtlsParameters']),
  produce: request('produce', { ...own, transportId: id, kind: { const: 'audio' }, rtpParameters: blob }, ['participantId', 'transportId', 'kind', 'rtpParameters']),
  resumeConsumer: request('resumeConsumer', { ...own, consumerId: id }, ['participantId', 'consumerId']),
  leave: request('leave', own, ['participantId']),
  ...Object.fromEntries(
    PARTICIPANT_ACTIONS.map((action) => [action, request(action, { ...own, clientContext: clientContextSchema }, ['participantId'])]),
  ),
  muteAll: request(
    'muteAll',
    { exceptParticipantIds: { type: 'array', maxItems: 1000, uniqueItems: true, items: id }, clientContext: clientContextSchema },
    [],
  ),
} as Record<RequestType, object>;

export const REQUEST_TYPES = Object.keys(schemas) as RequestType[];

const ajv = new Ajv({ allErrors: false, strict: true });
const validators = Object.fromEntries(Object.entries(schemas).map(([type, schema]) => [type, ajv.compile(schema)])) as Record<
  RequestType,
  ValidateFunction<ClientRequest>
>;

/** Checks a decoded request the same way in both encodings (and as strictly as the HTTP API). */
export function validateClientRequest(candidate: unknown): ClientRequest {
  const requestId = typeof (candidate as { requestId?: unknown })?.requestId === 'string' ? (candidate as { requestId: string }).requestId : undefined;
  // First of all: nothing below (messages, schemas, the domain) looks into a value nested deeper than any request needs.
  if (nestsDeeperThan(candidate, MAX_REQUEST_NESTING)) {
    throw new FrameError('invalidRequest', `the request nests deeper than ${MAX_REQUEST_NESTING} levels`, requestId);
  }
  const type = (candidate as { type?: unknown })?.type;
  if (typeof type !== 'string' || !(REQUEST_TYPES as string[]).includes(type)) {
    throw new FrameError('unknownMessageType', `unknown message type ${JSON.stringify(type)}; expected one of ${REQUEST_TYPES.join(', ')}`, requestId);
  }
  const validate = validators[type as RequestType];
  if (validate(candidate)) return candidate;
  const err = validate.errors?.[0];
  const where = err?.instancePath ? err.instancePath.slice(1) : 'message';
  const extra = err?.keyword === 'additionalProperties' ? ` (${(err.params as { additionalProperty: string }).additionalProperty})` : '';
  throw new FrameError('invalidRequest', `invalid ${type} request: ${where} ${err?.message ?? 'is invalid'}${extra}`, requestId);
}
