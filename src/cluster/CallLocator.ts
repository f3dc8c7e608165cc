import type { CallHosting } from '../commands/context.js';
import type { CallService } from '../control/CallService.js';
import { DomainError } from '../control/errors.js';
import type { RedisCallStateStore } from './RedisCallStateStore.js';
import type { RedisConnection } from './RedisConnection.js';

/**
 * Brings a call named by a request here when its node is gone (kill -9, restart, cut off from
 * Redis): re-placed on this node with everyone's moderation state, so a muted identity that joins
 * again starts paused. A call hosted by another live node is refused with 503 callHostedElsewhere,
 * naming that node: requests are not forwarded between nodes yet (README "More than one node").
 */
export class CallLocator implements CallHosting {
  /** One take-over per call at a time: concurrent requests for it wait for the same one. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly service: CallService,
    private readonly store: RedisCallStateStore,
    private readonly redis: RedisConnection,
    private readonly onTakenOver: () => void,
  ) {}

  ensureHosted(callId: string): Promise<void> {
    if (this.service.hasCall(callId)) return Promise.resolve();
    let pending = this.inFlight.get(callId);
    if (!pending) {
      pending = this.locate(callId).finally(() => this.inFlight.delete(callId));
      this.inFlight.set(callId, pending);
    }
    return pending;
  }

  private async locate(callId: string): Promise<void> {
    if (!this.redis.up) throw unavailable(callId, 'the cluster store (Redis) cannot be reached');
    let location;
    try {
      location = await this.store.locate(callId);
    } catch (err) {
      throw unavailable(callId, `the cluster store (Redis) did not answer (${(err as Error).message})`);
    }
    if (location.kind === 'unknown') return;
    if (location.kind === 'elsewhere') {
      throw new DomainError(
        'mediaUnavailable',
        'callHostedElsewhere',
        `call ${callId} is hosted by node ${location.nodeId}${location.url ? ` (${location.url})` : ''}; send the request there (requests are not forwarded between nodes yet)`,
      );
    }
    await this.service.adoptCall(location.call);
    this.onTakenOver();
  }
}

function unavailable(callId: string, why: string): DomainError {
  return new DomainError('mediaUnavailable', 'clusterStateUnavailable', `call ${callId} is not hosted on this node and ${why}; try again shortly`);
}
