import type { LeaveReason } from '../../control/CallService.js';
import type { Participant } from '../../control/Participant.js';
import { IDENTITY_KINDS } from '../../control/identity.js';
import { ClientMessage, ServerMessage } from '../../proto/contract.js';
import type { WireCodec } from './codec.js';
import { FrameError, PROTO_SUBPROTOCOL, validateClientRequest, type ClientRequest, type ServerEvent } from './protocol.js';

const CHANGE_TYPE = { joined: 'JOINED', updated: 'UPDATED', left: 'LEFT', callEnded: 'CALL_ENDED', reconnect: 'RECONNECT' } as const;
const LEAVE_REASON: Record<LeaveReason, string> = {
  removed: 'LEAVE_REASON_REMOVED',
  left: 'LEAVE_REASON_LEFT',
  replaced: 'LEAVE_REASON_REPLACED',
  callEnded: 'LEAVE_REASON_CALL_ENDED',
  mediaLost: 'LEAVE_REASON_MEDIA_LOST',
};

function participantMessage(participant: Participant) {
  const kind = IDENTITY_KINDS.find((k) => participant.identity[k] !== undefined);
  const identity = kind ? participant.identity[kind] : undefined;
  return {
    id: participant.id,
    identity: identity ? { kind, id: identity.id, displayName: identity.displayName ?? '' } : undefined,
    isMuted: participant.isMuted,
    isInLobby: false,
    serverMuted: participant.isMuted,
    locked: participant.locked,
    deafened: participant.deafened,
    handRaised: participant.handRaised,
    sourceId: participant.sourceId,
    talkingWhileMuted: participant.talkingWhileMuted,
    dominantSpeaker: participant.dominantSpeaker,
  };
}

function serverMessage(event: ServerEvent): Record<string, unknown> {
  switch (event.type) {
    case 'snapshot':
      return {
        snapshot: {
          callId: event.call.id,
          sequence: event.call.rosterSequence,
          participants: [...event.call.participants.values()].map(participantMessage),
          requestId: event.requestId ?? '',
        },
      };
    case 'delta':
      return {
        delta: {
          callId: event.call.id,
          sequence: event.change.sequence,
          change: CHANGE_TYPE[event.change.kind],
          participants: event.change.kind === 'callEnded' ? [] : [participantMessage(event.change.participant)],
          ...(event.change.kind === 'left' ? { leaveReason: LEAVE_REASON[event.change.reason] } : {}),
        },
      };
    case 'ack':
      return { response: { requestId: event.requestId, ack: { callId: event.callId } } };
    case 'operation': {
      const op = event.operation;
      return {
        response: {
          requestId: event.requestId,
          operation: {
            id: op.id,
            type: op.type,
            status: op.status,
            ...(op.clientContext !== undefined ? { clientContext: op.clientContext } : {}),
            callId: op.callId,
            participantId: op.participantId,
            ...(op.finishedSequence !== undefined ? { finishedSequence: op.finishedSequence } : {}),
          },
        },
      };
    }
    case 'result':
      return { response: { requestId: event.requestId, resultJson: JSON.stringify(event.body) } };
    case 'consumer':
      return {
        consumer: {
          callId: event.callId,
          participantId: event.participantId,
          consumerId: event.offer.consumerId,
          producerId: event.offer.producerId,
          sourceParticipantId: event.offer.sourceParticipantId,
          kind: event.offer.kind,
          rtpParametersJson: JSON.stringify(event.offer.rtpParameters),
        },
      };
    case 'unmuteRequested':
      return {
        unmuteRequested: { callId: event.callId, participantId: event.participantId, ...(event.clientContext !== undefined ? { clientContext: event.clientContext } : {}) },
      };
    case 'reconnect':
      return { reconnect: { callId: event.callId, participantId: event.participantId, reason: event.reason } };
    case 'consumerClosed':
      return { consumerClosed: { callId: event.callId, participantId: event.participantId, consumerId: event.consumerId } };
    case 'error':
      return {
        error: {
          requestId: event.requestId ?? '',
          status: event.status,
          code: event.code,
          innerCode: event.innerCode,
          message: event.message,
        },
      };
  }
}

/** Binary frames of mutegate.v1 protobuf (src/proto/mutegate.proto). */
export const protoCodec: WireCodec = {
  subprotocol: PROTO_SUBPROTOCOL,
  binary: true,

  decode(data: Buffer, isBinary: boolean): ClientRequest {
    if (!isBinary) throw new FrameError('wrongFrameType', `text frame on a ${PROTO_SUBPROTOCOL} connection; send binary ClientMessage frames`);
    let decoded: { requestId?: string; request?: string } & Record<string, unknown>;
    try {
      decoded = ClientMessage.toObject(ClientMessage.decode(data), { oneofs: true, defaults: false }) as typeof decoded;
    } catch (err) {
      throw new FrameError('badFrame', `frame is not a mutegate.v1.ClientMessage: ${(err as Error).message}`);
    }
    const requestId = decoded.requestId;
    if (!decoded.request) throw new FrameError('unknownMessageType', 'ClientMessage carries no request', requestId);
    const body: Record<string, unknown> = {};
    let type = decoded.request;
    const fields = { ...(decoded[decoded.request] as Record<string, unknown>) };
    if (type === 'participantAction') {
      // One message for every per-participant action; its name is a field.
      type = String(fields.action ?? '');
      delete fields.action;
    }
    for (const [key, value] of Object.entries(fields)) {
      // mediasoup parameter objects arrive as JSON text in *_json fields.
      if (key.endsWith('Json') && typeof value === 'string') {
        try {
          body[key.slice(0, -4)] = JSON.parse(value);
        } catch {
          throw new FrameError('invalidRequest', `${key} is not valid JSON`, requestId);
        }
      } else body[key] = value;
    }
    return validateClientRequest({ type, requestId: requestId ?? '', ...body });
  },

  encode(event: ServerEvent): Uint8Array {
    return ServerMessage.encode(ServerMessage.fromObject(serverMessage(event))).finish();
  },
};
