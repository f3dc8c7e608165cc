import type { Participant } from '../control/Participant.js';

/**
 * A participant as one principal may see it: `withMedia` says whether its transport addresses,
 * ports and SRTP keys are shown (its own leg, or the application's view), or only the roster.
 */
export interface ParticipantView {
  readonly participant: Participant;
  readonly withMedia: boolean;
}
