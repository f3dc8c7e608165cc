import type { RedisConnection } from './RedisConnection.js';
import { KEY_PREFIX, nodeKey } from './keys.js';

/** What a node tells the others about itself (renewed every heartbeat). */
export interface NodeRegistration {
  nodeId: string;
  /** Base URL of its HTTP API. */
  url: string;
  calls: number;
  participants: number;
  /** ISO time of this heartbeat. */
  heartbeatAt: string;
}

const NODES_SET = `${KEY_PREFIX}nodes`;

/**
 * This node's registration in the cluster, as LiveKit keeps its node registry: renewed every
 * heartbeatMs with the node's load, and expiring nodeTtlMs after the last renewal, so a node that
 * died (kill -9) or lost Redis counts as gone within nodeTtlMs and its calls can move.
 */
export class NodeRegistry {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisConnection,
    readonly nodeId: string,
    private readonly options: {
      url: () => string;
      load: () => { calls: number; participants: number };
      heartbeatMs: number;
      nodeTtlMs: number;
      /** After every heartbeat tick (whether it could write or not). */
      onHeartbeat?: () => void;
      /** A renewal found the registration gone although this node had registered: it counted as dead meanwhile. */
      onLapsed?: () => void;
      /** Redis answered the registration with an error (first time only). */
      onRegistrationRefused?: (err: Error) => void;
      /**
       * No renewal succeeded for nodeTtlMs − leaseMarginMs since the last one was sent: the
       * registration may expire in Redis within leaseMarginMs, after which another node may take
       * this node's calls over (see `leaseHeld`).
       */
      onLeaseLost?: () => void;
      /** A renewal succeeded after the lease was lost. */
      onLeaseRenewed?: () => void;
      /** Every renewal that extended the lease (see leaseEndsAt). */
      onLeaseExtended?: () => void;
    },
  ) {}

  /** Before the registration can expire, the lease counts as lost this long (a quarter of nodeTtlMs). */
  get leaseMarginMs(): number {
    return Math.floor(this.options.nodeTtlMs / 4);
  }

  /**
   * Whether this node's registration is certainly still in Redis for at least leaseMarginMs: a
   * renewal succeeded that was sent less than nodeTtlMs − leaseMarginMs ago (Redis starts its
   * nodeTtlMs when it receives the renewal, which is after it was sent), and it has not been
   * found gone since. Another node takes this node's calls over only once the registration is gone.
   */
  get leaseHeld(): boolean {
    return !this.leaseLost && this.msUntilLeaseLost() > 0;
  }

  /**
   * How many times the lease was lost so far: a check that began under one epoch and ends under
   * another may have missed a take-over in between (ClusterNode.liftFence).
   */
  get leaseEpoch(): number {
    return this.leaseLosses;
  }

  /**
   * When the registration can expire in Redis at the earliest: nodeTtlMs after the last
   * successful renewal was sent (process.hrtime.bigint(), the machine's monotonic clock, which
   * the lease watchdog shares); undefined before the first one.
   */
  get leaseEndsAt(): bigint | undefined {
    return this.leaseEnd;
  }

  /** Until the lease counts as lost: leaseMarginMs before it ends (negative once past; -Infinity before the first renewal). */
  private msUntilLeaseLost(): number {
    if (this.leaseEnd === undefined) return -Infinity;
    return Number(this.leaseEnd - process.hrtime.bigint()) / 1e6 - this.leaseMarginMs;
  }

  private leaseLostTimer: NodeJS.Timeout | undefined;
  /** The lease counts as lost (its timer ran out, or the registration was found gone) until a renewal succeeds in time. */
  private leaseLost = false;
  private leaseLosses = 0;
  private leaseEnd: bigint | undefined;

  /** Whether a registration of this node was written since start (and not removed by close()). */
  private registered = false;
  private closed = false;
  private warnedSetError = false;

  /** Registers now (if Redis is there) and then every heartbeatMs. */
  start(): void {
    void this.heartbeat();
    this.timer = setInterval(() => {
      void this.heartbeat();
      this.options.onHeartbeat?.();
    }, this.options.heartbeatMs);
    this.timer.unref();
  }

  /** Renews now (e.g. as soon as the node listens), not at the next tick. */
  renew(): void {
    void this.heartbeat();
  }

  /**
   * Renews on a new connection to Redis (the node resyncs its calls anyway): a registration that
   * expired or was lost with Redis's data meanwhile is not reported as a lapse.
   */
  renewAfterReconnect(): void {
    if (this.closed) return;
    this.registered = false;
    void this.heartbeat();
  }

  private async heartbeat(): Promise<void> {
    // Not before the node listens (the others would read an address that answers nothing), and
    // never again once it left.
    if (this.closed || !this.redis.up || this.options.url() === '') return;
    const registration: NodeRegistration = { nodeId: this.nodeId, url: this.options.url(), ...this.options.load(), heartbeatAt: new Date().toISOString() };
    const sentAt = process.hrtime.bigint();
    // GET: the registration it replaces; none although this node had registered = it had expired.
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.redis.client
        .multi()
        .set(nodeKey(this.nodeId), JSON.stringify(registration), 'PX', this.options.nodeTtlMs, 'GET')
        .sadd(NODES_SET, this.nodeId)
        .exec();
    } catch (err) {
      // A lost connection or a timeout: the next heartbeat tries again (a node that cannot renew
      // expires). An error reply (EXECABORT) is Redis refusing the command itself.
      if ((err as Error).name === 'ReplyError') this.refusedOnce(err as Error);
      return;
    }
    const [setError, previous] = replies?.[0] ?? [new Error('the registration transaction was aborted'), null];
    if (setError) this.refusedOnce(setError);
    if (setError || this.closed) return;
    const lapsed = this.registered && previous === null;
    this.registered = true;
    // Gone although the lease was held (evicted, flushed, Redis's clock jumped): another node may
    // have taken calls over meanwhile; lost like a lease that ran out, so the fence goes up first.
    if (lapsed) this.loseLease();
    this.renewLease(sentAt);
    if (lapsed) this.options.onLapsed?.();
  }

  /** A renewal sent at `sentAt` (process.hrtime.bigint()) succeeded: the lease ends nodeTtlMs later. */
  private renewLease(sentAt: bigint): void {
    const end = sentAt + BigInt(this.options.nodeTtlMs) * 1_000_000n;
    // A late answer to an older renewal never shortens the lease.
    if (this.leaseEnd !== undefined && end <= this.leaseEnd) return;
    this.leaseEnd = end;
    clearTimeout(this.leaseLostTimer);
    const lostIn = this.msUntilLeaseLost();
    this.leaseLostTimer = setTimeout(() => this.loseLease(), Math.max(0, lostIn));
    this.leaseLostTimer.unref();
    // A renewal answered so late that its lease is already over changes nothing more.
    if (lostIn <= 0) return;
    this.options.onLeaseExtended?.();
    if (!this.leaseLost) return;
    this.leaseLost = false;
    this.options.onLeaseRenewed?.();
  }

  private loseLease(): void {
    if (this.closed || this.leaseLost) return;
    this.leaseLost = true;
    this.leaseLosses++;
    this.options.onLeaseLost?.();
  }

  /** The nodes registered now (the set is pruned of the ones that expired). */
  async liveNodes(): Promise<NodeRegistration[]> {
    const ids = await this.redis.client.smembers(NODES_SET);
    if (ids.length === 0) return [];
    const values = await this.redis.client.mget(ids.map(nodeKey));
    const gone = ids.filter((_id, i) => values[i] === null);
    if (gone.length > 0) await this.redis.client.srem(NODES_SET, ...gone);
    return values.flatMap((value) => (value === null ? [] : [JSON.parse(value) as NodeRegistration]));
  }

  /** A live node's base URL, from its registration. */
  async urlOf(nodeId: string): Promise<string | undefined> {
    const registration = await this.redis.client.get(nodeKey(nodeId));
    return registration === null ? undefined : (JSON.parse(registration) as NodeRegistration).url;
  }

  /** Redis refused the registration: e.g. a Redis older than 6.2 (no SET … GET). Said once. */
  private refusedOnce(err: Error): void {
    if (this.warnedSetError) return;
    this.warnedSetError = true;
    this.options.onRegistrationRefused?.(err);
  }

  /** Stops renewing and removes the registration (a node shutting down): its calls can move at once. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.leaseLostTimer);
    this.closed = true;
    this.registered = false;
    if (!this.redis.up) return;
    await this.redis.client
      .multi()
      .del(nodeKey(this.nodeId))
      .srem(NODES_SET, this.nodeId)
      .exec()
      .catch(() => undefined);
  }
}
