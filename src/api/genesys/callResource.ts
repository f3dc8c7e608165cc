import type { Call } from '../../control/Call.js';
import type { Participant } from '../../control/Participant.js';
import { IDENTITY_KINDS } from '../../control/identity.js';

/** Genesys Workspace Voice operation names that mutegate implements (hands are mutegate's own). */
export type GenesysOperation = 'MuteCall' | 'UnmuteCall' | 'RaiseHand' | 'LowerHand';
export const GENESYS_OPERATIONS: readonly GenesysOperation[] = ['MuteCall', 'UnmuteCall', 'RaiseHand', 'LowerHand'];

export const genesysCallPath = (callId: string) => `/api/v2/me/calls/${callId}`;

/**
 * What the agent may do to the call now: unmute while muted (not while locked by a moderator),
 * mute while not; raise or lower its hand.
 */
export function capabilitiesOf(me: Participant): GenesysOperation[] {
  const mute: GenesysOperation[] = me.isMuted ? (me.locked ? [] : ['UnmuteCall']) : ['MuteCall'];
  return [...mute, me.handRaised ? 'LowerHand' : 'RaiseHand'];
}

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
    capabilities: released ? [] : capabilitiesOf(me),
    path,
    uri: baseUrl + path,
    userData: [],
    extensions: [],
    participantId: me.id,
    subject: call.subject ?? '',
  };
}
