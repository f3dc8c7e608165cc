import type { CallHosting, CallPlace } from '../commands/context.js';
import type { CallService } from '../control/CallService.js';
import { DomainError } from '../control/errors.js';
import type { NodeRegistry } from './NodeRegistry.js';
import type { RedisCallStateStore } from './RedisCallStateStore.js';
import type { RedisConnection } from './RedisConnection.js';

const HERE: CallPlace = { kind: 'here' };

/**
 * Where a call is served in the cluster. A call hosted by another live node is served there
 * (the transports forward the request); a call whose node is gone (kill -9, restart, cut off from
 * Redis) is re-placed here with everyone's moderation state, so a muted identity that joins
 * again starts paused; a new call goes to the least loaded live node.
 */
export class CallLocator implements CallHosting {
  /** One take-over per call at a time: concurrent requests for it wait for the same one. */
  private readonly inFlight = new Map<string, Promise<CallPlace>>();

  constructor(
    private readonly service: CallService,
    private readonly store: RedisCallStateStore,
    private readonly redis: RedisConnection,
    private readonly registry: () => NodeRegistry | undefined,
    private readonly nodeId: string,
    private readonly onTakenOver: () => void,
  ) {}

  place(callId: string): Promise<CallPlace> {
    if (this.service.hasCall(callId)) return Promise.resolve(HERE);
    let pending = this.inFlight.get(callId);
    if (!pending) {
      pending = this.locate(callId).finally(() => this.inFlight.delete(callId));
      this.inFlight.set(callId, pending);
    }
    return pending;
  }

  async placeNewCall(): Promise<CallPlace> {
    const registry = this.registry();
    if (!registry || !this.redis.up) throw unavailable('a new call cannot be placed: the cluster store (Redis) cannot be reached');
    let nodes;
    try {
      nodes = await registry.liveNodes();
    } catch (err) {
      throw unavailable(`a new call cannot be placed: the cluster store (Redis) did not answer (${(err as Error).message})`);
    }
    const load = (node: { calls: number; participants: number }) => node.participants + node.calls;
    const mine = nodes.find((node) => node.nodeId === this.nodeId);
    const least = nodes.reduce<(typeof nodes)[number] | undefined>((best, node) => (!best || load(node) < load(best) ? node : best), undefined);
    // This node on a tie (no hop), and when it is not registered yet or is the least loaded.
    if (!least || !mine || load(mine) <= load(least)) return HERE;
    return { kind: 'node', nodeId: least.nodeId };
  }

  async otherNodes(): Promise<string[]> {
    const registry = this.registry();
    if (!registry || !this.redis.up) throw unavailable('the calls of the other nodes cannot be listed: the cluster store (Redis) cannot be reached');
    try {
      return (await registry.liveNodes()).map((node) => node.nodeId).filter((nodeId) => nodeId !== this.nodeId);
    } catch (err) {
      throw unavailable(`the calls of the other nodes cannot be listed: the cluster store (Redis) did not answer (${(err as Error).message})`);
    }
  }

  private async locate(callId: string): Promise<CallPlace> {
    if (!this.redis.up) throw unavailable(`call ${callId} is not hosted on this node and the cluster store (Redis) cannot be reached`);
    // Right after a reconnect, Redis may have come back from a restart without (or with old)
    // registrations: a node missing from it may be alive and about to write itself back, so its
    // calls are not taken over yet (that would end them on their node, with states newer than
    // what Redis kept), and a call Redis does not hold is not known to be gone.
    const restoring = this.redis.restoring;
    // A node whose own lease is not held may be taken over itself, and holds its media (the
    // fence): it takes nothing over until it is registered again.
    const leaseHeld = this.registry()?.leaseHeld === true;
    let location;
    try {
      location = await this.store.locate(callId, !restoring && leaseHeld);
    } catch (err) {
      throw unavailable(`call ${callId} is not hosted on this node and the cluster store (Redis) did not answer (${(err as Error).message})`);
    }
    if (location.kind === 'unknown') {
      if (restoring) throw unavailable(`call ${callId} is not in the cluster store (Redis), which this node reached again moments ago: the node hosting it may still be writing it again`);
      return HERE;
    }
    if (location.kind === 'unregistered') {
      if (!restoring) throw unavailable(`node ${location.nodeId}, which hosted call ${callId}, is gone, but this node cannot take the call over while its own registration in the cluster store (Redis) is not renewed`);
      throw unavailable(`node ${location.nodeId}, which hosted call ${callId}, is not registered in the cluster store (Redis), which this node reached again moments ago: it may still be coming back`);
    }
    if (location.kind === 'elsewhere') return { kind: 'node', nodeId: location.nodeId };
    await this.service.adoptCall(location.call);
    this.onTakenOver();
    return HERE;
  }
}

function unavailable(why: string): DomainError {
  return new DomainError('mediaUnavailable', 'clusterStateUnavailable', `${why}; try again shortly`);
}
