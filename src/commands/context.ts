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
  /** With a cluster (config cluster.redisUrl): brings a call this node does not host here, if it can be. */
  readonly hosting?: CallHosting;
}

/** Finds where a call is hosted in the cluster (see src/cluster/CallLocator.ts). */
export interface CallHosting {
  /**
   * Resolves once the call is hosted here, or when no node hosts it (the command then answers
   * 404); throws a DomainError when another live node hosts it or the cluster cannot be asked.
   */
  ensureHosted(callId: string): Promise<void>;
}
