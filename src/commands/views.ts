import type { Call } from '../control/Call.js';
import type { Participant } from '../control/Participant.js';

/**
 * A participant as one principal may see it: `withMedia` says whether its transport addresses,
 * ports and SRTP keys are shown (its own leg, or the application's view), or only the roster.
 */
export interface ParticipantView {
  readonly participant: Participant;
  readonly withMedia: boolean;
}

/**
 * A call as one principal may see it: `withBackendSettings` says whether the application's own
 * settings (callbackUri, which may carry a secret, and tenantId) are shown: to the application only.
 */
export interface CallView {
  readonly call: Call;
  readonly withBackendSettings: boolean;
}
