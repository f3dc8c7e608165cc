import type { Call } from '../../control/Call.js';
import type { Participant } from '../../control/Participant.js';
import { IDENTITY_KINDS } from '../../control/identity.js';
import { agentCapabilities } from '../../commands/agent.js';

export const genesysCallPath = (callId: string) => `/api/v2/me/calls/${callId}`;

function partyOf(participant: Participant) {
  const kind = IDENTITY_KINDS.find((k) => participant.identity[k] !== undefined);
  const identity = kind ? participant.identity[kind] : undefined;
  return {
    number: identity?.id ?? participant.id,
    displayName: identity?.displayName ?? '',
    participantId: participant.id,
    mute: participant.isMuted ? 'On' : 'Off',
  };
}

/**
 * The call as the Genesys Workspace API shows it to one agent (`me`): its own mute state and
 * capabilities, and the other parties.
 */
export function genesysCallResource(call: Call, me: Participant, baseUrl: string, released = false) {
  const path = genesysCallPath(call.id);
  return {
    id: call.id,
    callUuid: call.id.replace(/-/g, '').toUpperCase(),
    state: released || call.state !== 'established' ? 'Released' : 'Established',
    callType: 'Internal',
    mute: me.isMuted ? 'On' : 'Off',
    locked: me.locked,
    deafened: me.deafened,
    handRaised: me.handRaised,
    participants: [...call.participants.values()].filter((p) => p !== me).map(partyOf),
    capabilities: released ? [] : agentCapabilities(me),
    path,
    uri: baseUrl + path,
    userData: [],
    extensions: [],
    participantId: me.id,
    subject: call.subject ?? '',
  };
}
