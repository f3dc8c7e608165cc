import type { Call } from '../../control/Call.js';
import type { LeaveReason, RosterChange } from '../../control/CallService.js';
import { callPath, callResource, participantsPath, rosterParticipantResource } from './resources.js';

/**
 * Graph `commsNotifications` for roster changes, shared by the WebSocket JSON encoding and the
 * webhooks. mutegate's own metadata rides along as OData instance annotations
 * (`@mutegate.sequence`, …), which Graph clients ignore.
 */
export interface CommsNotifications {
  '@odata.type': '#microsoft.graph.commsNotifications';
  '@mutegate.callId': string;
  '@mutegate.sequence': number;
  '@mutegate.kind': 'snapshot' | 'delta';
  '@mutegate.change'?: RosterChange['kind'];
  /** On a `left` change only: why the participant left (see LeaveReason). */
  '@mutegate.leaveReason'?: LeaveReason;
  '@mutegate.requestId'?: string;
  value: {
    '@odata.type': '#microsoft.graph.commsNotification';
    changeType: 'updated' | 'deleted';
    resourceUrl: string;
    resourceData: unknown;
  }[];
}

/** The whole roster of a call, as of its current sequence number. */
export function rosterSnapshotNotification(call: Call, requestId?: string): CommsNotifications {
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    '@mutegate.callId': call.id,
    '@mutegate.sequence': call.rosterSequence,
    '@mutegate.kind': 'snapshot',
    ...(requestId !== undefined ? { '@mutegate.requestId': requestId } : {}),
    value: [
      {
        '@odata.type': '#microsoft.graph.commsNotification',
        changeType: 'updated',
        resourceUrl: participantsPath(call.id),
        resourceData: [...call.participants.values()].map(rosterParticipantResource),
      },
    ],
  };
}

/** One roster change: the participant that joined/changed (updated) or left (deleted), or the call ending. */
export function rosterChangeNotification(call: Call, change: RosterChange): CommsNotifications {
  const notification =
    change.kind === 'callEnded'
      ? { changeType: 'deleted' as const, resourceUrl: callPath(call.id), resourceData: callResource(call) }
      : {
          changeType: change.kind === 'left' ? ('deleted' as const) : ('updated' as const),
          resourceUrl: participantsPath(call.id),
          resourceData: [rosterParticipantResource(change.participant)],
        };
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    '@mutegate.callId': call.id,
    '@mutegate.sequence': change.sequence,
    '@mutegate.kind': 'delta',
    '@mutegate.change': change.kind,
    ...(change.kind === 'left' ? { '@mutegate.leaveReason': change.reason } : {}),
    value: [{ '@odata.type': '#microsoft.graph.commsNotification', ...notification }],
  };
}
