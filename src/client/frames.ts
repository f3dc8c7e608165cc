/**
 * The WebSocket protocol as a client sees it, whatever the encoding: what it sends
 * (ClientRequestFields) and the frames it receives, decoded into one shape (ServerFrame). The
 * JSON encoding is here; the protobuf one is in protoEncoding.ts (Node: it reads the .proto file).
 * Nothing here imports the server: the browser page bundles this file.
 */

/** A roster entry as every subscriber sees it (JSON and protobuf carry the same fields). */
export interface RosterParticipant {
  id: string;
  /** "user", "application", "guest" or "phone", with the identity's id and display name. */
  identity: { kind: string; id: string; displayName: string } | null;
  isMuted: boolean;
  locked: boolean;
  deafened: boolean;
  handRaised: boolean;
  /** Muted, and the server still receives speech from it. */
  talkingWhileMuted: boolean;
  /** The call's dominant speaker. */
  dominantSpeaker: boolean;
  sourceId: string;
}

export type RosterChangeKind = 'joined' | 'updated' | 'left' | 'reconnect' | 'callEnded';
export type LeaveReason = 'removed' | 'left' | 'replaced' | 'callEnded' | 'mediaLost';

/** A consumer the server created for a WebRTC participant (mediasoup-client `consume()` input). */
export interface ConsumerOffer {
  callId: string;
  participantId: string;
  consumerId: string;
  producerId: string;
  sourceParticipantId: string;
  kind: 'audio';
  rtpParameters: Record<string, unknown>;
}

export type ServerFrame =
  | { type: 'snapshot'; callId: string; sequence: number; requestId?: string; participants: RosterParticipant[] }
  | { type: 'delta'; callId: string; sequence: number; change: RosterChangeKind; leaveReason?: LeaveReason; participants: RosterParticipant[] }
  /**
   * The answer to a request: its body (an operation, `{ callId }`, or a signaling result). An
   * operation is what the encoding carries: JSON the Graph operation resource (`@odata.type`,
   * `status`, `finishedSequence`, `resultInfo`, muteAll's `results`, …), protobuf its Operation
   * message (`id`, `type`, `status`, `clientContext`, `callId`, `participantId`,
   * `finishedSequence`) for mute and
   * unmute, and the JSON resource for the other actions (`result_json`).
   */
  | { type: 'response'; requestId: string; body: Record<string, unknown> }
  | { type: 'error'; requestId?: string; status: number; code: string; innerCode: string; message: string }
  | ({ type: 'consumer' } & ConsumerOffer)
  | { type: 'consumerClosed'; callId: string; participantId: string; consumerId: string }
  | { type: 'unmuteRequested'; callId: string; participantId: string; clientContext?: string }
  | { type: 'reconnect'; callId: string; participantId: string; reason: string }
  /** A frame this client does not know (a newer server): passed on, not an error. */
  | { type: 'unknown'; frame: unknown };

/** A request as it is sent: its type, its id, and its fields (JSON form; `*Json` fields are objects). */
export interface ClientRequestFields {
  type: string;
  requestId: string;
  callId: string;
  [field: string]: unknown;
}

/** How one encoding (a WebSocket subprotocol) writes requests and reads frames. */
export interface WireEncoding {
  readonly subprotocol: string;
  readonly binary: boolean;
  encode(request: ClientRequestFields): string | Uint8Array;
  decode(data: string | Uint8Array): ServerFrame;
}

// `any`-free reading of JSON: every field is checked for its type where it is read.
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

const IDENTITY_KINDS = ['user', 'application', 'guest', 'phone'] as const;

/** A Graph roster participant (JSON encoding) as a RosterParticipant. */
function fromGraphParticipant(p: Obj): RosterParticipant {
  const identitySet = obj(obj(p.info).identity);
  const kind = IDENTITY_KINDS.find((k) => identitySet[k] !== undefined);
  const identity = kind ? obj(identitySet[kind]) : undefined;
  const stream = obj(Array.isArray(p.mediaStreams) ? p.mediaStreams[0] : undefined);
  return {
    id: str(p.id),
    identity: kind && identity ? { kind, id: str(identity.id), displayName: str(identity.displayName) } : null,
    isMuted: p.isMuted === true,
    locked: p.locked === true,
    deafened: p.deafened === true,
    handRaised: p.handRaised === true,
    talkingWhileMuted: p.talkingWhileMuted === true,
    dominantSpeaker: p.dominantSpeaker === true,
    sourceId: str(stream.sourceId),
  };
}

export const JSON_SUBPROTOCOL = 'mutegate.v1.json';

/** The JSON encoding (subprotocol mutegate.v1.json): roster frames are Graph commsNotifications. */
export const jsonEncoding: WireEncoding = {
  subprotocol: JSON_SUBPROTOCOL,
  binary: false,

  encode(request: ClientRequestFields): string {
    return JSON.stringify(request);
  },

  decode(data: string | Uint8Array): ServerFrame {
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
    const m = obj(JSON.parse(text));
    if (m['@odata.type'] === '#microsoft.graph.commsNotifications') {
      const callId = str(m['@mutegate.callId']);
      const sequence = num(m['@mutegate.sequence']);
      const notifications = Array.isArray(m.value) ? m.value.map(obj) : [];
      const participants = notifications
        .filter((n) => str(n.resourceUrl).endsWith('/participants'))
        .flatMap((n) => (Array.isArray(n.resourceData) ? n.resourceData.map((p) => fromGraphParticipant(obj(p))) : []));
      if (m['@mutegate.kind'] === 'snapshot') {
        const requestId = m['@mutegate.requestId'];
        return { type: 'snapshot', callId, sequence, ...(typeof requestId === 'string' ? { requestId } : {}), participants };
      }
      const leaveReason = m['@mutegate.leaveReason'];
      return {
        type: 'delta',
        callId,
        sequence,
        change: str(m['@mutegate.change']) as RosterChangeKind,
        ...(typeof leaveReason === 'string' ? { leaveReason: leaveReason as LeaveReason } : {}),
        participants,
      };
    }
    switch (m.type) {
      case 'response':
        return { type: 'response', requestId: str(m.requestId), body: obj(m.body) };
      case 'error': {
        const error = obj(m.error);
        const inner = obj(error.innerError);
        return {
          type: 'error',
          ...(typeof m.requestId === 'string' ? { requestId: m.requestId } : {}),
          status: num(m.status),
          code: str(error.code),
          innerCode: str(inner.code),
          message: str(error.message),
        };
      }
      case 'newConsumer':
        return {
          type: 'consumer',
          callId: str(m.callId),
          participantId: str(m.participantId),
          consumerId: str(m.consumerId),
          producerId: str(m.producerId),
          sourceParticipantId: str(m.sourceParticipantId),
          kind: 'audio',
          rtpParameters: obj(m.rtpParameters),
        };
      case 'consumerClosed':
        return { type: 'consumerClosed', callId: str(m.callId), participantId: str(m.participantId), consumerId: str(m.consumerId) };
      case 'unmuteRequested':
        return {
          type: 'unmuteRequested',
          callId: str(m.callId),
          participantId: str(m.participantId),
          ...(typeof m.clientContext === 'string' ? { clientContext: m.clientContext } : {}),
        };
      case 'reconnect':
        return { type: 'reconnect', callId: str(m.callId), participantId: str(m.participantId), reason: str(m.reason) };
      default:
        return { type: 'unknown', frame: m };
    }
  },
};
