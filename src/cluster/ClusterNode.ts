import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { CallHosting } from '../commands/context.js';
import type { GatewayConfig } from '../config/schema.js';
import type { CallService } from '../control/CallService.js';
import type { ForwardedKind, NodeLink } from '../api/nodeLink.js';
import { CallLocator } from './CallLocator.js';
import { ClusterBus } from './ClusterBus.js';
import { LeaseWatchdog } from './LeaseWatchdog.js';
import { NodeRegistry } from './NodeRegistry.js';
import { RedisCallStateStore } from './RedisCallStateStore.js';
import { RedisConnection } from './RedisConnection.js';

/** What /healthz and /metrics say about the node's place in the cluster. */
export interface ClusterHealth {
  nodeId: string;
  redis: 'up' | 'down';
  /** Moderation states answered while Redis was away, not written yet. */
  unsyncedStates: number;
  /** Calls this node took over from nodes that were gone, since it started. */
  callsTakenOver: number;
  /** Every send stream held paused: the node's lease on its calls may have run out (see MediaFenceControl). */
  mediaFenced: boolean;
}

/**
 * The node's media fence (MediasoupMediaPlane): every send stream of every call held paused,
 * whatever the participants' mute state, and released again.
 */
export interface MediaFenceControl {
  raiseFence(): Promise<void>;
  liftFence(): Promise<void>;
  /** `NAME=value` in the environment of this node's media workers (and of no other process's): what the lease watchdog kills. */
  readonly workerMark: string;
}

/** The watchdog fires nodeTtlMs / 16 before the lease can expire in Redis (after the fence, at ¾, had its chance). */
const WATCHDOG_GUARD_DIVISOR = 16;

/** How long a node shutting down keeps trying to write what Redis has not taken yet. */
const LEAVE_FLUSH_MS = 2000;

/** How long start() waits for Redis before the node starts degraded (it keeps trying). */
const START_WAIT_MS = 3000;

/**
 * This process as a node of a mutegate cluster (config cluster.redisUrl): its Redis connection,
 * its registration with heartbeats and load, the store of calls and moderation state the domain
 * writes through, and the locator that takes over the calls of nodes that are gone.
 */
export class ClusterNode {
  readonly nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly store: RedisCallStateStore;
  private readonly redis: RedisConnection;
  private readonly bus: ClusterBus;
  private registry: NodeRegistry | undefined;
  private locator: CallLocator | undefined;
  private service: CallService | undefined;
  private takenOver = 0;
  private operationsPerCall = 0;
  /** The media fence is up (raised when the lease was lost, lifted once it is held again and the calls were checked). */
  private fenced = false;
  /** Raises so far: a raise's confirmation disarms the watchdog only if no later raise began. */
  private raises = 0;
  private lifting = false;
  /** Stops the workers if the lease runs out and nothing in this process held the media (see LeaseWatchdog). */
  private watchdog: LeaseWatchdog | undefined;

  constructor(
    private readonly config: GatewayConfig['cluster'] & { redisUrl: string },
    private readonly logger: Logger,
    /** Holds this node's media still while its lease on its calls may have run out. */
    private readonly media?: MediaFenceControl,
  ) {
    this.redis = new RedisConnection(config.redisUrl, config.commandTimeoutMs, config.nodeTtlMs, logger);
    this.bus = new ClusterBus(this.redis, this.nodeId, logger);
    this.store = new RedisCallStateStore(
      this.redis,
      this.nodeId,
      logger,
      (callId) => {
        if (!this.service?.hasCall(callId)) return;
        logger.warn({ callId }, 'another node hosts this call now (this one was cut off from Redis): it ends here');
        this.service.releaseCall(callId);
      },
      (callId) => void this.resync([callId]),
    );
  }

  /** Binds the node to the domain it stores for (the domain was built with `store`). */
  attach(service: CallService, operationsPerCall: number): void {
    this.service = service;
    this.operationsPerCall = operationsPerCall;
    // After the answer: the state the operation changed was written before it; the record follows.
    service.on('operationFinished', (operation) => setImmediate(() => this.store.saveOperation(operation, operationsPerCall)));
    this.locator = new CallLocator(service, this.store, this.redis, () => this.registry, this.nodeId, () => this.takenOver++);
  }

  /** Joins the cluster: connects (or starts degraded and keeps trying), registers, resyncs on every reconnect. */
  async start(url: () => string): Promise<void> {
    const service = this.service;
    if (!service) throw new Error('ClusterNode.start() before attach()');
    const registry = new NodeRegistry(this.redis, this.nodeId, {
      url,
      load: () => {
        const { calls, participants } = service.stats();
        return { calls, participants };
      },
      heartbeatMs: this.config.heartbeatMs,
      nodeTtlMs: this.config.nodeTtlMs,
      onHeartbeat: () => {
        void this.store.retryUnsynced();
        if (this.fenced && registry.leaseHeld) void this.liftFence(registry);
      },
      // Connected all along, yet the registration expired (a stalled event loop, heartbeats that
      // timed out): other nodes may have taken calls over. Writing every call again finds out, and
      // ends here the ones another node hosts now.
      onRegistrationRefused: (err) =>
        this.logger.error({ err, nodeId: this.nodeId }, 'the cluster Redis refused this node\'s registration (mutegate needs Redis 6.2 or newer): the other nodes count this node as gone'),
      onLapsed: () => {
        this.logger.warn({ nodeId: this.nodeId }, "this node's registration had expired: checking which of its calls other nodes took over");
        void this.resync(service.hostedCallIds());
      },
      onLeaseLost: () => this.raiseFence(),
      onLeaseRenewed: () => void this.liftFence(registry),
      onLeaseExtended: () => this.armWatchdog(registry),
    });
    if (this.media) this.watchdog = new LeaseWatchdog(this.logger, this.media.workerMark);
    this.registry = registry;
    this.redis.on('up', () => {
      registry.renewAfterReconnect();
      void this.resync(service.hostedCallIds());
    });
    await this.redis.start(START_WAIT_MS);
    await this.bus.start();
    if (!this.redis.up) this.logger.warn({ redisUrl: this.config.redisUrl }, 'the cluster Redis is not reachable yet: starting degraded, retrying');
    registry.start();
  }

  /** Writes these calls to Redis again (see RedisCallStateStore.resync): whether every one was written or found taken over. */
  private resync(callIds: string[]): Promise<boolean> {
    const service = this.service;
    return service ? this.store.resync(callIds, (callId) => service.storedCall(callId), this.operationsPerCall) : Promise.resolve(false);
  }

  /**
   * No renewal of this node's registration succeeded for nodeTtlMs less a quarter: it may expire
   * any moment, and then another node may take this node's calls over and answer mutes for
   * them that this node would never hear of. So every send stream here is held paused first
   * (fail closed: the calls go silent, mute states are kept), before the registration can expire.
   */
  private raiseFence(): void {
    const media = this.media;
    if (!media || this.fenced) return;
    this.fenced = true;
    const raise = ++this.raises;
    this.logger.warn({ nodeId: this.nodeId }, "this node's registration in the cluster Redis may expire (no renewal succeeded): holding every send stream paused until it is renewed");
    // Held (every worker confirmed): the watchdog has nothing left to do. Not confirmed before its
    // deadline (a stalled worker): it kills the workers.
    void media.raiseFence().then(() => {
      if (this.fenced && this.raises === raise) this.watchdog?.disarm();
    });
  }

  /**
   * The registration is renewed: once every call hosted here was written again (a call another
   * node took over meanwhile ends here instead), the send streams flow again as their mute
   * states say. Not before: a call taken over must never be heard from here again. The check
   * counts only if the lease was held throughout (same epoch, held at the end) and covered every
   * call hosted here at its end (one taken over or created meanwhile is checked too).
   */
  private async liftFence(registry: NodeRegistry): Promise<void> {
    const service = this.service;
    if (!this.media || !this.fenced || this.lifting || !service) return;
    this.lifting = true;
    try {
      const epoch = registry.leaseEpoch;
      const checked = new Set<string>();
      for (;;) {
        const unchecked = service.hostedCallIds().filter((id) => !checked.has(id));
        if (unchecked.length === 0) break;
        const complete = await this.resync(unchecked);
        if (!complete) return; // the next heartbeat tries again
        for (const id of unchecked) checked.add(id);
      }
      if (registry.leaseEpoch !== epoch || !registry.leaseHeld || !this.fenced) return;
      this.fenced = false;
      this.armWatchdog(registry);
      await this.media.liftFence();
      this.logger.info({ nodeId: this.nodeId }, "this node's registration is renewed and its calls are its own: send streams flow again as their mute states say");
    } finally {
      this.lifting = false;
    }
  }

  /** The lease watchdog kills the workers shortly before the lease can expire, unless renewed or the fence holds first. */
  private armWatchdog(registry: NodeRegistry): void {
    const end = registry.leaseEndsAt;
    if (!this.watchdog || !this.media || this.fenced || end === undefined) return;
    this.watchdog.arm(end - BigInt(Math.ceil(this.config.nodeTtlMs / WATCHDOG_GUARD_DIVISOR)) * 1_000_000n);
  }

  /**
   * The node listens: registered now, not at the next heartbeat. Before its registration exists
   * no other node may count it as alive, so it must exist before the node creates any call.
   */
  listening(): void {
    this.registry?.renew();
  }

  get hosting(): CallHosting {
    if (!this.locator) throw new Error('ClusterNode.hosting before attach()');
    return this.locator;
  }

  /** How the transports reach other nodes (forwarded requests, roster changes). */
  get link(): NodeLink {
    const bus = this.bus;
    const timeoutMs = this.config.requestTimeoutMs;
    return {
      nodeId: this.nodeId,
      request: (nodeId: string, kind: ForwardedKind, payload: unknown) => bus.request(nodeId, kind, payload, timeoutMs),
      handle: (kind, handler) => bus.handle(kind, handler),
      publishRoster: (callId, sequence, message) => bus.publishRoster(callId, sequence, message),
      watchRoster: (callId, listener) => bus.watchRoster(callId, listener),
      unwatchRoster: (callId) => bus.unwatchRoster(callId),
      publishTopic: (topic, message) => bus.publishTopic(topic, message),
      listenTopic: (topic, listener) => bus.listenTopic(topic, listener),
      onConnected: (listener) => bus.onSubscribed(listener),
      urlOf: async (nodeId) => (this.registry ? this.registry.urlOf(nodeId).catch(() => undefined) : undefined),
    };
  }

  health(): ClusterHealth {
    return { nodeId: this.nodeId, redis: this.redis.up ? 'up' : 'down', unsyncedStates: this.store.unsyncedStates, callsTakenOver: this.takenOver, mediaFenced: this.fenced };
  }

  /**
   * Leaves the registry (shutdown, once the domain has finished and written its last operations):
   * the calls can move to other nodes now instead of after nodeTtlMs.
   */
  async leave(): Promise<void> {
    // What Redis has not taken yet is tried again first (for up to LEAVE_FLUSH_MS): once the
    // registration is gone another node may take the calls over with what Redis has.
    const until = Date.now() + LEAVE_FLUSH_MS;
    while (this.store.unsyncedStates > 0 && this.redis.up && Date.now() < until) {
      await this.store.retryUnsynced();
      if (this.store.unsyncedStates > 0) await new Promise((r) => setTimeout(r, 100));
    }
    if (this.store.unsyncedStates > 0) {
      this.logger.error({ unsyncedStates: this.store.unsyncedStates }, 'leaving the cluster with moderation states Redis has not taken: they are lost with this node');
    }
    // The registration goes now and with it the lease: nothing is fenced any more, nothing to kill.
    this.watchdog?.close();
    await this.registry?.close();
  }

  /** Leaves the cluster: the registration (if still there), the pub/sub and the connection. */
  async close(): Promise<void> {
    await this.leave();
    this.bus.close();
    this.redis.close();
  }
}
