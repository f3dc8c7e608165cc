import type { CommandContext } from '../../commands/context.js';
import { moderate, muteAll, setHand } from '../../commands/moderation.js';
import { mute, unmute } from '../../commands/mute.js';
import type { Principal } from '../../control/Principal.js';
import { operationResource, rosterParticipantResource } from '../graph/resources.js';
import type { ClientRequest, ServerEvent } from './protocol.js';

/**
 * The WebSocket requests about a call that need nothing of the connection they came on (no
 * WebRTC participant of its own, no subscription, not WebRTC media): the same whichever node's socket they came
 * through, so a node serves them for another node's clients too (see SocketServer, cluster).
 */
export type CallRequest = Extract<
  ClientRequest,
  { type: 'mute' | 'unmute' | 'requestUnmute' | 'lock' | 'unlock' | 'deafen' | 'undeafen' | 'raiseHand' | 'lowerHand' | 'muteAll' }
>;

const CALL_REQUEST_TYPES: ReadonlySet<string> = new Set<CallRequest['type']>([
  'mute',
  'unmute',
  'requestUnmute',
  'lock',
  'unlock',
  'deafen',
  'undeafen',
  'raiseHand',
  'lowerHand',
  'muteAll',
]);

export function isCallRequest(request: ClientRequest): request is CallRequest {
  return CALL_REQUEST_TYPES.has(request.type);
}

/** Runs one call request as `principal`; its answer, to be sent to whoever asked. */
export async function runCallRequest(ctx: CommandContext, principal: Principal, request: CallRequest, receivedAt: bigint): Promise<ServerEvent> {
  switch (request.type) {
    case 'mute':
    case 'unmute': {
      const meta = { clientContext: request.clientContext, receivedAt };
      const operation =
        request.type === 'mute'
          ? await mute(ctx, principal, request.callId, request.participantId, meta)
          : await unmute(ctx, principal, request.callId, request.participantId, meta);
      return { type: 'operation', requestId: request.requestId, operation };
    }
    case 'requestUnmute':
    case 'lock':
    case 'unlock':
    case 'deafen':
    case 'undeafen': {
      const operation = await moderate(ctx, principal, request.type, request.callId, request.participantId, request.clientContext);
      return { type: 'result', requestId: request.requestId, body: operationResource(operation) };
    }
    case 'raiseHand':
    case 'lowerHand': {
      // As over HTTP: the participant as the roster shows it now.
      const participant = await setHand(ctx, principal, request.callId, request.participantId, request.type === 'raiseHand');
      return { type: 'result', requestId: request.requestId, body: rosterParticipantResource(participant) };
    }
    case 'muteAll': {
      const operation = await muteAll(ctx, principal, request.callId, request.exceptParticipantIds ?? [], request.clientContext);
      return { type: 'result', requestId: request.requestId, body: operationResource(operation) };
    }
  }
}
