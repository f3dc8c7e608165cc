/**
 * The protobuf encoding of the WebSocket protocol (subprotocol mutegate.v1.proto,
 * src/proto/mutegate.proto) for Node clients: requests as ClientMessage, frames from
 * ServerMessage, into the same ServerFrame the JSON encoding gives. Node only (it reads the
 * .proto file); a browser uses jsonEncoding.
 */
import { ClientMessage, ServerMessage } from '../proto/contract.js';
import type { ClientRequestFields, LeaveReason, RosterChangeKind, RosterParticipant, ServerFrame, WireEncoding } from './frames.js';

export const PROTO_SUBPROTOCOL = 'mutegate.v1.proto';

/** Per-participant actions travel as one ParticipantAction message, the action named in it. */
const PARTICIPANT_ACTIONS = new Set(['requestUnmute', 'lock', 'unlock', 'deafen', 'undeafen', 'raiseHand', 'lowerHand']);
/** mediasoup's parameter objects travel as JSON text in `<name>Json` fields. */
const JSON_FIELDS = new Set(['rtpCapabilities', 'dtlsParameters', 'rtpParameters']);

const CHANGES: Record<string, RosterChangeKind> = { JOINED: 'joined', UPDATED: 'updated', LEFT: 'left', CALL_ENDED: 'callEnded', RECONNECT: 'reconnect' };
const LEAVE_REASONS: Record<string, LeaveReason> = {
  LEAVE_REASON_REMOVED: 'removed',
  LEAVE_REASON_LEFT: 'left',
  LEAVE_REASON_REPLACED: 'replaced',
  LEAVE_REASON_CALL_ENDED: 'callEnded',
  LEAVE_REASON_MEDIA_LOST: 'mediaLost',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function participant(p: Obj): RosterParticipant {
  const identity = obj(p.identity);
  return {
    id: str(p.id),
    identity: p.identity ? { kind: str(identity.kind), id: str(identity.id), displayName: str(identity.displayName) } : null,
    isMuted: p.isMuted === true,
    locked: p.locked === true,
    deafened: p.deafened === true,
    handRaised: p.handRaised === true,
    talkingWhileMuted: p.talkingWhileMuted === true,
    dominantSpeaker: p.dominantSpeaker === true,
    sourceId: str(p.sourceId),
  };
}

const participants = (list: unknown): RosterParticipant[] => (Array.isArray(list) ? list.map((p) => participant(obj(p))) : []);

export const protoEncoding: WireEncoding = {
  subprotocol: PROTO_SUBPROTOCOL,
  binary: true,

  encode({ type, requestId, ...fields }: ClientRequestFields): Uint8Array {
    const body: Obj = {};
    for (const [key, value] of Object.entries(fields)) {
      if (JSON_FIELDS.has(key)) body[`${key}Json`] = JSON.stringify(value);
      else body[key] = value;
    }
    const message = PARTICIPANT_ACTIONS.has(type) ? { requestId, participantAction: { action: type, ...body } } : { requestId, [type]: body };
    return ClientMessage.encode(ClientMessage.fromObject(message)).finish();
  },

  decode(data: string | Uint8Array): ServerFrame {
    if (typeof data === 'string') return { type: 'unknown', frame: data };
    const decoded = ServerMessage.toObject(ServerMessage.decode(data), { longs: Number, enums: String, oneofs: true, defaults: true }) as Obj;
    const which = str(decoded.message);
    const m = obj(decoded[which]);
    switch (which) {
      case 'snapshot':
        return { type: 'snapshot', callId: str(m.callId), sequence: Number(m.sequence), ...(m.requestId ? { requestId: str(m.requestId) } : {}), participants: participants(m.participants) };
      case 'delta': {
        const leaveReason = LEAVE_REASONS[str(m.leaveReason)];
        return {
          type: 'delta',
          callId: str(m.callId),
          sequence: Number(m.sequence),
          change: CHANGES[str(m.change)] ?? 'updated',
          ...(leaveReason ? { leaveReason } : {}),
          participants: participants(m.participants),
        };
      }
      case 'response': {
        const requestId = str(m.requestId);
        if (m.result === 'ack') return { type: 'response', requestId, body: obj(m.ack) };
        if (m.result === 'operation') return { type: 'response', requestId, body: obj(m.operation) };
        return { type: 'response', requestId, body: obj(JSON.parse(str(m.resultJson) || '{}')) };
      }
      case 'error':
        return {
          type: 'error',
          ...(m.requestId ? { requestId: str(m.requestId) } : {}),
          status: Number(m.status),
          code: str(m.code),
          innerCode: str(m.innerCode),
          message: str(m.message),
        };
      case 'consumer':
        return {
          type: 'consumer',
          callId: str(m.callId),
          participantId: str(m.participantId),
          consumerId: str(m.consumerId),
          producerId: str(m.producerId),
          sourceParticipantId: str(m.sourceParticipantId),
          kind: 'audio',
          rtpParameters: obj(JSON.parse(str(m.rtpParametersJson) || '{}')),
        };
      case 'consumerClosed':
        return { type: 'consumerClosed', callId: str(m.callId), participantId: str(m.participantId), consumerId: str(m.consumerId) };
      case 'unmuteRequested':
        return { type: 'unmuteRequested', callId: str(m.callId), participantId: str(m.participantId), ...(m.clientContext ? { clientContext: str(m.clientContext) } : {}) };
      case 'reconnect':
        return { type: 'reconnect', callId: str(m.callId), participantId: str(m.participantId), reason: str(m.reason) };
      default:
        return { type: 'unknown', frame: decoded };
    }
  },
};
