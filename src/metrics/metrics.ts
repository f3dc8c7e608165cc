import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallService } from '../control/CallService.js';
import { AfterThisTurn } from '../lib/afterThisTurn.js';

/** The part of the worker pool the metrics watch. */
export interface WorkerEventSource {
  on(event: 'workerDied', listener: (info: { pid: number }) => void): unknown;
  on(event: 'workerReplaced', listener: (info: { deadPid: number; newPid: number }) => void): unknown;
  on(event: 'admissionRefused', listener: (info: { callId: string }) => void): unknown;
  /** Each live worker's load as counted from the objects that exist in it. */
  loads(): { pid: number; consumers: number; flowingConsumers: number; producers: number; packetsPerSecond: number }[];
}

/** The part of the webhook dispatcher the metrics watch. */
export interface WebhookEventSource {
  on(event: 'outcome', listener: (outcome: 'delivered' | 'failed' | 'dropped' | 'superseded', callId: string) => void): unknown;
}

/** The part of the roster WebSocket server the metrics watch. */
export interface SocketServerSource {
  readonly connectionCount: number;
  on(event: 'fanOut', listener: (seconds: number, subscribers: number) => void): unknown;
}

/** The node's place in a cluster (config cluster.redisUrl), as ClusterNode.health says it. */
export interface ClusterSource {
  health(): { redis: 'up' | 'down'; unsyncedStates: number; callsTakenOver: number; mediaFenced: boolean };
}

export interface MetricSources {
  service: CallService;
  workers: WorkerEventSource;
  webhooks: WebhookEventSource;
  sockets: SocketServerSource;
  cluster?: ClusterSource;
}

/** Latency buckets from 100 µs to 5 s: a worker-confirmed pause usually takes about a millisecond. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A Prometheus registry with process metrics and mutegate's own, fed by domain and pool events. */
export function createMetrics({ service, workers, webhooks, sockets, cluster }: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const operations = new Counter({
    name: 'mutegate_mute_operations_total',
    help: 'Operations by type (mute, unmute, muteAll, lockParticipant, …) and result (completed: confirmed by the media worker).',
    labelNames: ['operation', 'result'] as const,
    registers: [registry],
  });
  const enforcement = new Histogram({
    name: 'mutegate_mute_enforcement_seconds',
    help: 'Time from the gateway receiving a mute/unmute request to the media worker confirming it.',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const workerDeaths = new Counter({
    name: 'mutegate_worker_deaths_total',
    help: 'mediasoup worker processes that died unexpectedly.',
    registers: [registry],
  });
  const workerRestarts = new Counter({
    name: 'mutegate_worker_restarts_total',
    help: 'Replacement mediasoup workers started after a death.',
    registers: [registry],
  });
  // Gauges are read from the domain at scrape time, so they can never drift from it.
  const gauges = [
    ['mutegate_calls', 'Calls in progress.', 'calls'],
    ['mutegate_participants', 'Participants in all calls.', 'participants'],
    ['mutegate_muted_participants', 'Participants currently muted (confirmed by the media worker).', 'mutedParticipants'],
  ] as const;
  for (const [name, help, stat] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(service.stats()[stat]);
      },
    });
  }

  new Gauge({
    name: 'mutegate_websocket_connections',
    help: 'Open roster/control WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(sockets.connectionCount);
    },
  });
  const webhookDeliveries = new Counter({
    name: 'mutegate_webhook_deliveries_total',
    help: 'Webhook notifications by outcome: delivered, failed (after every retry), superseded (newer news about the same participant replaced it before it was sent) or dropped (queue full).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const webhookFailures = new Counter({
    name: 'mutegate_webhook_failures_total',
    help: 'Webhook notifications that were never delivered (failed after every retry, or dropped).',
    registers: [registry],
  });
  webhooks.on('outcome', (outcome) => {
    webhookDeliveries.inc({ result: outcome });
    if (outcome === 'failed' || outcome === 'dropped') webhookFailures.inc();
  });

  const fanOut = new Histogram({
    name: 'mutegate_roster_fanout_seconds',
    help: 'Time to write one roster change to every WebSocket subscriber of its call.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  sockets.on('fanOut', (seconds) => fanOut.observe(seconds));
  const droppedWhileMuted = new Counter({
    name: 'mutegate_muted_packets_dropped_total',
    help: 'RTP packets the media worker received from muted participants and dropped (counted at unmute, from producer stats).',
    registers: [registry],
  });
  // Domain listeners that failed (the operation that emitted went on regardless; the gateway logs each one).
  const listenerErrors = new Counter({
    name: 'mutegate_event_listener_errors_total',
    help: 'Errors thrown by listeners of domain events (roster, operationFinished, …), by event; they never change an operation\'s outcome.',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  service.onListenerError((event) => listenerErrors.inc({ event }));
  // An operation's counters are updated after the turn that answered it (see AfterThisTurn): the
  // mute's reply does not wait for them, and no scrape can come in between.
  const afterReply = new AfterThisTurn((error) => {
    listenerErrors.inc({ event: 'operationFinished' });
    process.emitWarning(`updating the operation metrics failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 'ListenerError');
  });
  service.on('mutedPacketsDropped', (_call, _participant, packets) => droppedWhileMuted.inc(packets));

  service.on('operationFinished', (operation, seconds) =>
    afterReply.run(() => {
      const name = operation.type === 'muteParticipant' ? 'mute' : operation.type === 'unmuteParticipant' ? 'unmute' : operation.type;
      operations.inc({ operation: name, result: operation.status });
      if (operation.status === 'completed' && (name === 'mute' || name === 'unmute')) enforcement.observe({ operation: name }, seconds);
    }),
  );
  workers.on('workerDied', () => workerDeaths.inc());
  workers.on('workerReplaced', () => workerRestarts.inc());
  // Admission control (media.workerBudget): what each worker carries, and the joins it refused.
  const workerLoad = [
    ['mutegate_worker_consumers', 'Consumers (pipe consumers included) on each live mediasoup worker.', 'consumers'],
    ['mutegate_worker_flowing_consumers', 'Consumers on each live mediasoup worker that are not paused themselves (deafened receivers and sources not selected by speaker-aware forwarding are).', 'flowingConsumers'],
    ['mutegate_worker_producers', 'Producers (pipe producers included) on each live mediasoup worker.', 'producers'],
    ['mutegate_worker_packets_per_second', 'Estimated RTP packets per second each live mediasoup worker receives and sends (50 per producer and per flowing consumer).', 'packetsPerSecond'],
  ] as const;
  for (const [name, help, field] of workerLoad) {
    new Gauge({
      name,
      help,
      labelNames: ['pid'] as const,
      registers: [registry],
      collect() {
        // Reset first: a dead worker's series disappears instead of keeping its last value.
        this.reset();
        for (const load of workers.loads()) this.set({ pid: String(load.pid) }, load[field]);
      },
    });
  }
  const refusals = new Counter({
    name: 'mutegate_admission_refusals_total',
    help: 'Joins answered 503 mediaCapacityExceeded because no mediasoup worker had room (media.workerBudget).',
    registers: [registry],
  });
  workers.on('admissionRefused', () => refusals.inc());
  if (cluster) clusterMetrics(registry, cluster);
  return registry;
}

/** Only with a cluster: whether Redis is there, and what waits for it. */
function clusterMetrics(registry: Registry, cluster: ClusterSource): void {
  const gauges = [
    ['mutegate_cluster_redis_up', 'Whether this node is connected to the cluster Redis (1) or not (0: mutes still enforced here, unmutes and new calls 503).', (h) => (h.redis === 'up' ? 1 : 0)],
    ['mutegate_cluster_unsynced_states', 'Moderation states (and ended calls) this node answered while Redis was away or refused writes, not written yet.', (h) => h.unsyncedStates],
    ['mutegate_cluster_calls_taken_over', 'Calls this node took over from nodes that were gone, since it started.', (h) => h.callsTakenOver],
    ['mutegate_cluster_media_fenced', 'Whether every send stream on this node is held paused because its registration in Redis may have expired (1) or not (0).', (h) => (h.mediaFenced ? 1 : 0)],
  ] as const satisfies readonly (readonly [string, string, (h: ReturnType<ClusterSource['health']>) => number])[];
  for (const [name, help, value] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(cluster.health()));
      },
    });
  }
}
