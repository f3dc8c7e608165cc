import type { CallView, ParticipantView } from '../../commands/views.js';
import type { Call } from '../../control/Call.js';
import type { Operation } from '../../control/Operation.js';
import type { Participant } from '../../control/Participant.js';

/**
 * Graph cloud-communications representations of the domain objects, shared by every adapter
 * that speaks Graph (HTTP responses, roster notifications). Plain JSON, no transport concerns.
 */

export const callsPath = '/communications/calls';
export const callPath = (callId: string) => `${callsPath}/${callId}`;
export const participantsPath = (callId: string) => `${callPath(callId)}/participants`;
export const participantPath = (callId: string, participantId: string) => `${participantsPath(callId)}/${participantId}`;
export const operationPath = (callId: string, operationId: string) => `${callPath(callId)}/operations/${operationId}`;

/** The call as a principal may see it (see CallView): the application's own settings for the application only. */
export function callView(view: CallView) {
  const resource = callResource(view.call);
  if (view.withBackendSettings) return { ...resource, callbackUri: view.call.callbackUri ?? null, tenantId: view.call.tenantId ?? null };
  return resource;
}

/** The Graph call as everyone with access to it sees it (roster notifications too): without callbackUri and tenantId. */
export function callResource(call: Call) {
  const app = call.appParticipant();
  return {
    '@odata.type': '#microsoft.graph.call',
    id: call.id,
    state: call.state,
    direction: 'outgoing',
    subject: call.subject ?? null,
    requestedModalities: ['audio'],
    source: call.source ? { '@odata.type': '#microsoft.graph.participantInfo', ...call.source } : null,
    targets: call.targets.map((t) => ({ '@odata.type': '#microsoft.graph.invitationParticipantInfo', ...t })),
    myParticipantId: app?.id ?? null,
    mediaState: { '@odata.type': '#microsoft.graph.callMediaState', audio: call.mediaLost ? 'inactive' : 'active' },
    /** mutegate: whether participant mute is allowed (Graph: group calls only). */
    callType: call.kind,
    /** mutegate: people joining for the first time start muted. */
    muteOnEntry: call.muteOnEntry,
    /** mutegate: who hears whom (README "Who is heard in a large call"). */
    forwarding: call.forwarding,
    /** mutegate: the participant the media names the dominant speaker (null: nobody yet). */
    dominantSpeakerParticipantId: call.dominantSpeaker()?.id ?? null,
    createdDateTime: call.createdDateTime.toISOString(),
  };
}

/** The Graph participant as the roster shows it to every subscriber: no network addresses. */
export function rosterParticipantResource(participant: Participant) {
  return {
    '@odata.type': '#microsoft.graph.participant',
    id: participant.id,
    info: { '@odata.type': '#microsoft.graph.participantInfo', identity: participant.identity },
    isMuted: participant.isMuted,
    isInLobby: false,
    /** mutegate moderation state: hard-muted by a moderator, hears nobody, asked to speak. */
    locked: participant.locked,
    deafened: participant.deafened,
    handRaised: participant.handRaised,
    /** mutegate speaker signals: muted but still sending speech; the call's dominant speaker. */
    talkingWhileMuted: participant.talkingWhileMuted,
    dominantSpeaker: participant.dominantSpeaker,
    mediaStreams: [
      {
        '@odata.type': '#microsoft.graph.mediaStream',
        mediaType: 'audio',
        label: 'main-audio',
        sourceId: participant.sourceId,
        direction: 'sendReceive',
        serverMuted: participant.isMuted,
      },
    ],
  };
}

/**
 * The participant as one principal may see it (see ParticipantView): with its media for its own
 * leg and the application, the roster view for everyone else.
 */
export function participantView(view: ParticipantView) {
  return view.withMedia ? participantResource(view.participant) : rosterParticipantResource(view.participant);
}

/** The Graph participant with its media (transport addresses, SRTP keys): for its owner and the application only. */
export function participantResource(participant: Participant) {
  const media = participant.media;
  return {
    ...rosterParticipantResource(participant),
    /** mutegate extension: the media of this participant. */
    media:
      participant.mediaSpec.kind === 'rtp'
        ? {
            kind: 'rtp',
            state: media ? 'connected' : 'disconnected',
            payloadType: participant.mediaSpec.payloadType,
            ssrc: participant.mediaSpec.ssrc,
            /** The RFC 6464 ssrc-audio-level extension id its packets carry (speaker-aware forwarding); null: none. */
            audioLevelExtensionId: participant.mediaSpec.audioLevelExtensionId ?? null,
            /** Where to send RTP. */
            send: media?.sendAddress ?? null,
            /** SRTP keys (SDES): the participant sends with sendKeyBase64 and decrypts with receiveKeyBase64. */
            srtp: media?.srtp ?? null,
            /** Where others' audio goes (null until latching has seen the first authenticated packet). */
            receive: participant.mediaSpec.receive ?? media?.receiveAddress() ?? null,
            /** The streams this participant receives, one per other participant. */
            receiveStreams: media?.receivedStreams() ?? [],
          }
        : {
            kind: 'webrtc',
            state: media ? 'connected' : 'disconnected',
            producerId: participant.producerId,
            receiveStreams: media?.receivedStreams() ?? [],
          },
  };
}

/** Graph names its mute operations; the others are mutegate's own. */
const GRAPH_OPERATIONS = new Set(['muteParticipant', 'unmuteParticipant']);

export function operationResource(operation: Operation) {
  return {
    '@odata.type': `#${GRAPH_OPERATIONS.has(operation.type) ? 'microsoft.graph' : 'mutegate'}.${operation.type}Operation`,
    id: operation.id,
    status: operation.status,
    clientContext: operation.clientContext ?? null,
    resultInfo: operation.resultInfo ? { '@odata.type': '#microsoft.graph.resultInfo', ...operation.resultInfo } : null,
    /** mutegate: which participant the operation acted on ("" for call-wide ones). */
    participantId: operation.participantId,
    ...(operation.results ? { results: operation.results } : {}),
    /** mutegate: the order in which the call's operations finished; the highest one on a participant stands. */
    finishedSequence: operation.finishedSequence ?? null,
    createdDateTime: operation.createdDateTime.toISOString(),
    lastActionDateTime: operation.lastActionDateTime.toISOString(),
  };
}
