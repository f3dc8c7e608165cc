import type { CallService } from '../control/CallService.js';
import type { Moderation } from '../control/Moderation.js';
import type { Policy } from '../control/Policy.js';
import type { ReceiveAddressPolicy } from '../control/ReceiveAddressPolicy.js';
import type { WebRtcSignaling } from '../control/WebRtcSignaling.js';

/**
 * What commands run against: the domain and its rules. Commands are the one place where a
 * principal is authorized for an action; every transport (HTTP, WebSocket, Genesys, CometD) calls
 * the same command, so the rules cannot drift between them.
 */
export interface CommandContext {
  readonly service: CallService;
  readonly policy: Policy;
  readonly moderation: Moderation;
  readonly signaling: WebRtcSignaling;
  readonly receiveAddresses: ReceiveAddressPolicy;
}
