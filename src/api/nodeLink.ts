import type { Principal } from '../control/Principal.js';

/**
 * What the transports need from the cluster to serve a call hosted by another node (see
 * src/cluster/ClusterNode.ts): ask that node, and follow its calls' roster changes. Nodes trust
 * each other (a principal verified on one node is taken as is by the other): the cluster's Redis
 * must be as private as the token secret.
 */
export interface NodeLink {
  /** This node's id in the cluster. */
  readonly nodeId: string;
  /** Asks `nodeId` to serve `kind`; rejects (NodeUnreachable) after the cluster's request timeout. */
  request(nodeId: string, kind: ForwardedKind, payload: unknown): Promise<unknown>;
  /** Serves `kind` for other nodes. */
  handle(kind: ForwardedKind, handler: (payload: unknown) => Promise<unknown>): void;
  /** Publishes one roster change of a call hosted here (the same frames its own subscribers get). */
  publishRoster(callId: string, sequence: number, message: string): void;
  /** Follows a call hosted elsewhere; resolves once subscribed. */
  watchRoster(callId: string, listener: (message: string) => void): Promise<void>;
  unwatchRoster(callId: string): void;
  /** Publishes on a topic every node may listen to; resolves with how many received it. */
  /** Resolves with how many nodes received it, or null when it could not be published (Redis away or failing). */
  publishTopic(topic: string, message: string): Promise<number | null>;
  /** Listens to a topic (again after every reconnect). */
  listenTopic(topic: string, listener: (message: string) => void): Promise<void>;
  /** The base URL of a live node's HTTP API (undefined: not registered). */
  urlOf(nodeId: string): Promise<string | undefined>;
  /** Called whenever the node (re)connects to the cluster. */
  onConnected(listener: () => void): void;
}

/** `http`: an HTTP request; `socketRequest`: a WebSocket request about a call; `snapshot`: a roster snapshot. */
export type ForwardedKind = 'http' | 'socketRequest' | 'snapshot';

/** A Principal as JSON (a moderator's calls as an array). */
export type WirePrincipal =
  | { kind: 'app'; subject: string }
  | { kind: 'moderator'; subject: string; calls: string[] | 'all' }
  | { kind: 'participant'; subject: string; callId: string; participantId?: string };

export function principalToWire(principal: Principal): WirePrincipal {
  return principal.kind === 'moderator' ? { ...principal, calls: principal.calls === 'all' ? 'all' : [...principal.calls] } : { ...principal };
}

export function principalFromWire(wire: WirePrincipal): Principal {
  return wire.kind === 'moderator' ? { ...wire, calls: wire.calls === 'all' ? 'all' : new Set(wire.calls) } : { ...wire };
}
