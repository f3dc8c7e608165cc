import type { types } from 'mediasoup';

/**
 * Packets per second of one audio stream: Opus in 20 ms frames (the only codec of this SFU). A
 * worker's forwarding work is estimated from it: every producer receives this many packets, every
 * consumer (pipe consumers included) that is not paused itself sends this many. A consumer that
 * is only producer-paused (its source is muted) counts: a mute is temporary. A consumer paused
 * itself (deafened receiver, source not selected by speaker-aware forwarding) costs the worker
 * almost nothing (native-bench/measureWorkerBudget.ts: 9,900 paused consumers of 100 talkers took
 * 9 % of a core) and counts only against the consumer budget.
 */
export const AUDIO_PACKETS_PER_SECOND = 50;

/** What one worker may carry before joins go elsewhere or are refused (media.workerBudget). */
export interface WorkerBudget {
  /** Consumers on the worker, pipe consumers included, flowing or paused. */
  consumers: number;
  /** Estimated RTP packets per second the worker receives and sends (see AUDIO_PACKETS_PER_SECOND). */
  packetsPerSecond: number;
  /**
   * Share of the budget (0–1] up to which a worker takes new participants while another worker
   * still could; beyond it, the worker grows only by the consumers of its calls' newcomers placed
   * elsewhere (see Placement).
   */
  placementShare: number;
}

/** A change of load on one worker: consumers and producers (pipes included). A join's new consumers are costed as flowing. */
export interface LoadDelta {
  consumers: number;
  producers: number;
}

/** What a worker carries: its consumers, those of them that flow, its producers. */
export interface LoadFigures extends LoadDelta {
  flowingConsumers: number;
  packetsPerSecond: number;
}

const packetsPerSecond = (flowingConsumers: number, producers: number): number => (flowingConsumers + producers) * AUDIO_PACKETS_PER_SECOND;

/**
 * The load of one mediasoup worker, counted from what actually exists in it: every producer and
 * consumer of every transport of every router on the worker (pipe transports included), added
 * when mediasoup reports it created and removed when it closes, so it cannot drift from the
 * worker. Admission adds reservations on top (joins being set up), so two joins deciding at the
 * same time cannot both take the last room.
 */
export class WorkerLoad {
  private readonly consumers = new Set<types.Consumer>();
  private producerCount = 0;
  private reservedConsumers = 0;
  private reservedProducers = 0;

  constructor(readonly budget: WorkerBudget) {}

  /** Counts everything created on `router` from now on, until it closes. */
  watchRouter(router: types.Router): void {
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newproducer', (producer) => {
        this.producerCount++;
        producer.observer.once('close', () => this.producerCount--);
      });
      transport.observer.on('newconsumer', (consumer) => {
        this.consumers.add(consumer);
        consumer.observer.once('close', () => this.consumers.delete(consumer));
      });
    });
  }

  /**
   * What exists now (without reservations). Whether a consumer flows is read from each consumer
   * at the time of asking (mediasoup reports no event for every change of its own pause).
   */
  get actual(): LoadFigures {
    let flowingConsumers = 0;
    for (const consumer of this.consumers) if (!consumer.paused) flowingConsumers++;
    return {
      consumers: this.consumers.size,
      flowingConsumers,
      producers: this.producerCount,
      packetsPerSecond: packetsPerSecond(flowingConsumers, this.producerCount),
    };
  }

  /** What exists plus what joins in progress have reserved (reserved consumers count as flowing). */
  get committed(): LoadFigures {
    const actual = this.actual;
    const flowingConsumers = actual.flowingConsumers + this.reservedConsumers;
    const producers = actual.producers + this.reservedProducers;
    return { consumers: actual.consumers + this.reservedConsumers, flowingConsumers, producers, packetsPerSecond: packetsPerSecond(flowingConsumers, producers) };
  }

  /** Whether `delta` more still fits in `share` of the budget (a zero delta always fits). */
  fits(delta: LoadDelta, share = 1): boolean {
    if (delta.consumers <= 0 && delta.producers <= 0) return true;
    const committed = this.committed;
    return (
      committed.consumers + delta.consumers <= share * this.budget.consumers &&
      packetsPerSecond(committed.flowingConsumers + delta.consumers, committed.producers + delta.producers) <= share * this.budget.packetsPerSecond
    );
  }

  /** Share of the budget in use (the larger of the two), for picking the least loaded worker. */
  get utilization(): number {
    const committed = this.committed;
    return Math.max(committed.consumers / this.budget.consumers, committed.packetsPerSecond / this.budget.packetsPerSecond);
  }

  /** Holds `delta` until the returned function is called (idempotent). */
  reserve(delta: LoadDelta): () => void {
    this.reservedConsumers += delta.consumers;
    this.reservedProducers += delta.producers;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reservedConsumers -= delta.consumers;
      this.reservedProducers -= delta.producers;
    };
  }
}
