import type { CallService } from '../control/CallService.js';
import type { Moderation } from '../control/Moderation.js';
import type { Policy } from '../control/Policy.js';
import type { ReceiveAddressPolicy } from '../control/ReceiveAddressPolicy.js';
import type { PrincipalRateLimit } from '../control/PrincipalRateLimit.js';
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
  /** How often a participant or moderator may read a whole roster (limits.rosterReadsPerSecond); none: unlimited. */
  readonly rosterReads?: PrincipalRateLimit;
  /**
   * How many requests (HTTP requests, WebSocket frames, CometD messages) a participant or moderator may make
   * (limits.requestsPerSecond); every transport admits each request here first. None: unlimited.
   */
  readonly requests?: PrincipalRateLimit;
  /** With a cluster (config cluster.redisUrl): brings a call this node does not host here, if it can be. */
  readonly hosting?: CallHosting;
}

/** Where a call named by a request is served: here (also: nowhere, the command answers 404), or on another live node. */
export type CallPlace = { kind: 'here' } | { kind: 'node'; nodeId: string };

/** Finds where a call is hosted in the cluster (see src/cluster/CallLocator.ts). */
export interface CallHosting {
  /**
   * Where the call is served; a call whose node is gone is taken over here first. Throws a
   * DomainError (503) when the cluster cannot be asked.
   */
  place(callId: string): Promise<CallPlace>;
  /** Where a new call goes: the live node with the least load (this one on a tie). */
  placeNewCall(): Promise<CallPlace>;
  /** The other live nodes (a list of calls asks each of them for theirs). */
  otherNodes(): Promise<string[]>;
}
