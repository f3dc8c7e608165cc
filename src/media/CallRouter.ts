import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import {
  InvalidMediaRequest,
  MediaCapacityExceeded,
  type CallMedia,
  type CallMediaOptions,
  type EndpointStart,
  type RtpEndpointSpec,
} from '../control/mediaPlane.js';
import { SerialQueue } from '../lib/SerialQueue.js';
import type { SpeakerSignal } from '../control/mediaPlane.js';
import type { CallSpeakers } from './CallSpeakers.js';
import type { EndpointHooks, MediaEndpoint } from './MediaEndpoint.js';
import { placeNewcomer } from './Placement.js';
import { MediaFence } from './MediaFence.js';
import { ProducerPipes } from './ProducerPipes.js';
import { RouterOfCall } from './RouterOfCall.js';
import { RtpEndpoint } from './RtpEndpoint.js';
import { participantSendKey } from './srtpKeys.js';
import { WebRtcEndpoint, deviceCapabilities } from './WebRtcEndpoint.js';
import type { PoolWorker, WorkerPool } from './WorkerPool.js';

export interface MediaListenOptions {
  listenIp: string;
  announcedIp: string;
}

/**
 * What happens inside a call's media, for components that work per router (speaker detection,
 * forwarding policies): listen on `CallRouter.observer`. Events come in creation order; a
 * participant's producer is announced before anyone consumes it.
 */
export interface CallRouterObserverEvents {
  /** A router of this call was created: the first one at openCall, more as the call spreads over workers. */
  newrouter: [{ router: types.Router; workerPid: number }];
  /**
   * A producer appeared on `router`: a participant's own (`pipe` false, on the router its endpoint
   * is in) or the pipe copy of one in another router of the call (`pipe` true; same id).
   */
  newproducer: [{ router: types.Router; producer: types.Producer; participantId: string; pipe: boolean }];
  /** `participantId` now consumes `sourceParticipantId`'s producer (or its pipe copy) on `router`. */
  newconsumer: [{ router: types.Router; consumer: types.Consumer; participantId: string; sourceParticipantId: string }];
}

/**
 * How long a WebRTC participant's expected load stays reserved while its client sets up its
 * transports and produces (after that, what it created is counted as it is).
 */
const WEBRTC_RESERVATION_MS = 30_000;

/** Pipes join workers of this one host: loopback, whatever address participants are given. */
const PIPE_LISTEN_IP = '127.0.0.1';

/**
 * The media of one call: one mediasoup Router per worker the call uses, and every participant's
 * endpoint in one of them. Fan-out rule of this SFU: every participant consumes every other
 * participant's producer; across routers it consumes the producer's pipe copy (ProducerPipes),
 * created once per producer and destination router.
 *
 * A newcomer is placed by admission control (Placement): on a router of the call whose worker has
 * room, else on a new router of the call on another worker, else refused (MediaCapacityExceeded,
 * before any worker is asked). A router that loses its last participant is closed (the first
 * one stays: it answers rtpCapabilities). A router lost underneath (its worker died) loses the
 * whole call's media: the domain rebuilds it (onLost).
 */
export class CallRouter implements CallMedia {
  readonly observer = new EventEmitter<CallRouterObserverEvents>();
  private readonly routers: RouterOfCall[] = [];
  /** The call's first router: never retired while the call lasts, it answers rtpCapabilities. */
  private first!: RouterOfCall;
  private readonly endpoints = new Map<string, { endpoint: MediaEndpoint; home: RouterOfCall }>();
  /** Pipes of each participant producer of the call (by the source producer). */
  private readonly pipes = new Map<types.Producer, { pipes: ProducerPipes; home: RouterOfCall }>();
  /** Which participant each producer id belongs to (pipe copies keep the id). */
  private readonly producerOwners = new Map<string, string>();
  /** Reservations of WebRTC participants that have not produced yet (see WEBRTC_RESERVATION_MS). */
  private readonly pendingReservations = new Map<string, () => void>();
  private readonly lostListeners: ((reason: string) => void)[] = [];
  /**
   * Endpoint additions (placement included), producer fan-outs and router retirements run one
   * at a time, so that two participants joining at once each end up consuming the other exactly
   * once, and each placement sees the previous one.
   */
  private readonly wiring = new SerialQueue();
  private closed = false;

  private constructor(
    readonly callId: string,
    private readonly pool: WorkerPool,
    private readonly listen: MediaListenOptions,
    /** How the call's media is set up (forwarding mode), as the domain asked at openCall. */
    readonly options: CallMediaOptions,
    /** The process's media fence (see MediaFence): every endpoint of the call obeys it. */
    fence: MediaFence,
  ) {
    this.hooks = { ...this.endpointHooks, fence };
  }

  /**
   * A call's media with its first router on the least loaded worker. `created` sees the media
   * before its first router is announced, so a listener on `observer` misses no router.
   */
  static async open(
    callId: string,
    pool: WorkerPool,
    listen: MediaListenOptions,
    options: CallMediaOptions = {},
    created?: (media: CallRouter) => void,
    fence: MediaFence = new MediaFence(),
  ): Promise<CallRouter> {
    const media = new CallRouter(callId, pool, listen, options, fence);
    const { router, worker } = await pool.createRouter();
    created?.(media);
    media.first = media.adoptRouter(router, worker);
    return media;
  }

  /** The pid of the worker a participant's endpoint is on (diagnostics, tests). */
  workerPidOf(participantId: string): number | null {
    return this.endpoints.get(participantId)?.home.worker.pid ?? null;
  }

  /** Pids of the workers this call has a router on. */
  get workerPids(): number[] {
    return this.routers.map((r) => r.worker.pid);
  }

  addRtpEndpoint(participantId: string, spec: RtpEndpointSpec, opts: EndpointStart): Promise<RtpEndpoint> {
    return this.wiring.run(async () => {
      this.assertCanAdd(participantId);
      // Checked (or generated) before any worker object exists: a bad key is the client's mistake.
      const sendKeyBase64 = spec.srtp ? participantSendKey(spec.srtp) : null;
      const { home, release } = await this.place(participantId);
      try {
        return await this.createRtpEndpoint(participantId, home, spec, sendKeyBase64, opts);
      } catch (err) {
        // A router created for this join and left empty by its failure goes again.
        this.retireIfEmpty(home);
        throw err;
      } finally {
        // What the join created is counted as it is from now on.
        release();
      }
    });
  }

  private async createRtpEndpoint(participantId: string, home: RouterOfCall, spec: RtpEndpointSpec, sendKeyBase64: string | null, opts: EndpointStart): Promise<RtpEndpoint> {
    const transport = await home.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: this.listen.listenIp, announcedIp: this.listen.announcedIp },
      rtcpMux: true,
      // Latching: the worker learns the address from the first packet. With SRTP it decrypts
      // (authenticates) before it latches, so only the key holder can latch.
      comedia: !spec.receive,
      enableSrtp: spec.srtp !== undefined,
      ...(spec.srtp ? { srtpCryptoSuite: spec.srtp.cryptoSuite } : {}),
      appData: { participantId },
    });
    const endpoint = new RtpEndpoint(participantId, transport, spec.payloadType, sendKeyBase64, this.hooks, { receivePaused: opts.receivePaused });
    try {
      // connect() is needed without `receive` too when SRTP is on: it hands the worker the key it decrypts with.
      if (spec.receive || spec.srtp) {
        await transport.connect({
          ...(spec.receive ? { ip: spec.receive.ip, port: spec.receive.port } : {}),
          ...(spec.srtp && sendKeyBase64 ? { srtpParameters: { cryptoSuite: spec.srtp.cryptoSuite, keyBase64: sendKeyBase64 } } : {}),
        });
      }
      const producer = await endpoint.produce(spec, opts);
      this.attachEndpoint(endpoint, home);
      // Everyone hears the newcomer, the newcomer hears everyone.
      await this.fanOut(endpoint, producer);
      await this.consumeEveryone(endpoint);
      return endpoint;
    } catch (err) {
      endpoint.close();
      throw err;
    }
  }

  addWebRtcEndpoint(participantId: string, opts: { receivePaused: boolean }): Promise<WebRtcEndpoint> {
    return this.wiring.run(async () => {
      this.assertCanAdd(participantId);
      const { home, release } = await this.place(participantId);
      // Its producer and consumers come later, through signaling: the room stays reserved until it
      // produced (or left, or the time is up).
      const timer = setTimeout(() => this.releasePending(participantId), WEBRTC_RESERVATION_MS).unref();
      this.pendingReservations.set(participantId, () => {
        clearTimeout(timer);
        release();
      });
      const endpoint = new WebRtcEndpoint(participantId, home.router, this.listen, this.hooks, opts);
      try {
        this.attachEndpoint(endpoint, home);
        // Remembered until the client has a receive transport and has told its capabilities.
        await this.consumeEveryone(endpoint);
        return endpoint;
      } catch (err) {
        // Nothing half-done: the domain never gets this endpoint.
        endpoint.close();
        this.releasePending(participantId);
        this.retireIfEmpty(home);
        throw err;
      }
    });
  }

  assertDeviceCapabilities(rtpCapabilities: unknown): void {
    deviceCapabilities(rtpCapabilities);
  }

  rtpCapabilities(): types.RtpCapabilities {
    // Every router of the call has the same codecs, hence the same capabilities.
    return this.first.router.rtpCapabilities;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Speaker-aware forwarding and speaker signals of this call (CallSpeakers, attached at the media plane's `newcall`). */
  speakers: CallSpeakers | null = null;

  onSpeakerSignal(listener: (signal: SpeakerSignal) => void): void {
    this.speakers?.onSignal(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
  }

  /** What the call's endpoints are given (endpointHooks and the media fence). */
  private readonly hooks: EndpointHooks;

  private readonly endpointHooks: Omit<EndpointHooks, 'fence'> = {
    onProducer: (ep, producer) =>
      this.wiring.run(async () => {
        await this.fanOut(ep, producer);
        this.releasePending(ep.participantId);
      }),
    pauseCopies: (ep, producer) => this.pipesOf(ep, producer)?.pause() ?? Promise.resolve(),
    killWorker: (ep) => {
      const entry = this.endpoints.get(ep.participantId);
      if (entry?.endpoint !== ep) return false;
      // SIGKILL works on a stopped process too. mediasoup reports the death ('died'): the pool
      // replaces the worker and every router on it closes, so the calls on it rebuild their media.
      try {
        process.kill(entry.home.worker.pid, 'SIGKILL');
        return true;
      } catch {
        return false; // already gone
      }
    },
    resumeCopies: (ep, producer) => this.pipesOf(ep, producer)?.resume() ?? Promise.resolve(),
    onClose: (ep) => {
      const entry = this.endpoints.get(ep.participantId);
      if (entry?.endpoint !== ep) return;
      this.endpoints.delete(ep.participantId);
      entry.home.remove(ep.participantId);
      this.releasePending(ep.participantId);
      // A router nobody is in any more only carries pipes nobody hears: close it (not the first).
      if (entry.home.participantCount === 0 && entry.home !== this.first) {
        void this.wiring.run(async () => this.retireIfEmpty(entry.home));
      }
    },
  };

  private assertCanAdd(participantId: string): void {
    if (this.closed) throw new Error(`media of call ${this.callId} is closed`);
    if (this.endpoints.has(participantId)) throw new Error(`participant ${participantId} already has media`);
  }

  /**
   * Admission control: where the newcomer goes, with its expected load reserved on every worker
   * of the call until `release`. Refuses (no worker asked, nothing created) when no worker has
   * room. A new router of the call is created here when the placement needs one.
   */
  private async place(participantId: string): Promise<{ home: RouterOfCall; release: () => void }> {
    const live = this.routers.filter((r) => !r.closed);
    const placement = placeNewcomer({
      routers: [...live]
        .sort((a, b) => a.worker.load.utilization - b.worker.load.utilization)
        .map((r) => ({ router: r, worker: r.worker, endpoints: r.participantCount })),
      otherWorkers: this.pool.liveWorkers().filter((w) => !live.some((r) => r.worker === w)),
      pipedInto: (from, into) => [...this.pipes.values()].filter((p) => p.home === from && p.pipes.destinations.includes(into.router)).length,
    });
    if (!placement) {
      const loads = this.pool
        .liveWorkers()
        .map((w) => {
          const { consumers, packetsPerSecond } = w.load.committed;
          return `worker ${w.pid}: ${consumers}/${w.load.budget.consumers} consumers, ${packetsPerSecond}/${w.load.budget.packetsPerSecond} packets/s`;
        })
        .join(', ');
      const message = `no media worker has room for participant ${participantId} in call ${this.callId} (${this.endpoints.size} participants; ${loads}; media.workerBudget)`;
      this.pool.reportRefusal({ callId: this.callId, message });
      throw new MediaCapacityExceeded(message);
    }
    const releases = [...placement.deltas].map(([worker, delta]) => worker.load.reserve(delta));
    const release = () => releases.forEach((r) => r());
    try {
      const home = placement.router ?? (await this.addRouter(placement.worker));
      return { home, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async addRouter(worker: PoolWorker): Promise<RouterOfCall> {
    const { router } = await this.pool.createRouter(worker);
    if (this.closed) {
      router.close();
      throw new Error(`media of call ${this.callId} is closed`);
    }
    return this.adoptRouter(router, worker);
  }

  private adoptRouter(router: types.Router, worker: PoolWorker): RouterOfCall {
    const entry = new RouterOfCall(router, worker);
    this.routers.push(entry);
    router.observer.once('close', () => this.onRouterClosed(entry));
    this.watch(entry);
    this.observer.emit('newrouter', { router, workerPid: worker.pid });
    return entry;
  }

  /** Reports the router's producers and consumers on `observer`. */
  private watch({ router }: RouterOfCall): void {
    router.observer.on('newtransport', (transport) => {
      const owner = (transport.appData as { participantId?: unknown }).participantId;
      const participantId = typeof owner === 'string' ? owner : null;
      transport.observer.on('newproducer', (producer) => {
        // A participant transport's producer is the participant's; a pipe transport's is a copy.
        const source = participantId ?? this.producerOwners.get(producer.id);
        if (participantId) {
          this.producerOwners.set(producer.id, participantId);
          producer.observer.once('close', () => {
            if (this.producerOwners.get(producer.id) === participantId) this.producerOwners.delete(producer.id);
          });
        }
        if (source) this.observer.emit('newproducer', { router, producer, participantId: source, pipe: participantId === null });
      });
      transport.observer.on('newconsumer', (consumer) => {
        const sourceParticipantId = this.producerOwners.get(consumer.producerId);
        // Pipe consumers (pipe transports have no participant) are the pipes' business.
        if (participantId && sourceParticipantId) this.observer.emit('newconsumer', { router, consumer, participantId, sourceParticipantId });
      });
    });
  }

  private attachEndpoint(endpoint: MediaEndpoint, home: RouterOfCall): void {
    this.endpoints.set(endpoint.participantId, { endpoint, home });
    home.add(endpoint.participantId);
  }

  private onRouterClosed(entry: RouterOfCall): void {
    const index = this.routers.indexOf(entry);
    if (index >= 0) this.routers.splice(index, 1);
    if (this.closed || entry.closedOnPurpose) return;
    // The worker died under us: every transport of that router is gone, and with it part of
    // every participant's audio. The call's media is lost as a whole; the domain rebuilds it.
    this.closed = true;
    this.forget();
    for (const listener of this.lostListeners) listener('media worker closed');
  }

  /** Closes every router of the call and forgets its endpoints (they are closed with their routers). */
  private forget(): void {
    // The endpoints are not closed (their transports went with the routers): only forgotten, by the fence too.
    for (const { endpoint } of this.endpoints.values()) this.hooks.fence.untrack(endpoint);
    this.endpoints.clear();
    this.pipes.clear();
    for (const release of this.pendingReservations.values()) release();
    this.pendingReservations.clear();
    for (const entry of this.routers.splice(0)) entry.retire();
  }

  private retireIfEmpty(entry: RouterOfCall): void {
    if (this.closed || entry.participantCount > 0 || entry === this.first || !this.routers.includes(entry)) return;
    entry.retire();
  }

  private releasePending(participantId: string): void {
    const release = this.pendingReservations.get(participantId);
    if (!release) return;
    this.pendingReservations.delete(participantId);
    release();
  }

  /**
   * The pipes of a participant's producer (created on first need). Null when the endpoint is no
   * longer in this call: then nothing of it is piped.
   */
  private pipesOf(endpoint: MediaEndpoint, producer: types.Producer): ProducerPipes | null {
    const existing = this.pipes.get(producer);
    if (existing) return existing.pipes;
    const entry = this.endpoints.get(endpoint.participantId);
    if (!entry || entry.endpoint !== endpoint || producer.closed || this.closed) return null;
    const pipes = new ProducerPipes(producer, entry.home.router, PIPE_LISTEN_IP);
    this.pipes.set(producer, { pipes, home: entry.home });
    producer.observer.once('close', () => {
      if (this.pipes.get(producer)?.pipes === pipes) this.pipes.delete(producer);
    });
    return pipes;
  }

  /** `producer` of `source` as seen in `receiver`'s router (itself, or its pipe copy there). */
  private async producerFor(source: MediaEndpoint, producer: types.Producer, receiver: MediaEndpoint): Promise<types.Producer | null> {
    const to = this.endpoints.get(receiver.participantId)?.home;
    const pipes = this.pipesOf(source, producer);
    if (!to || !pipes) return null;
    return pipes.in(to.router);
  }

  private async consumeEveryone(endpoint: MediaEndpoint): Promise<void> {
    await Promise.all(
      [...this.endpoints.values()]
        .map(({ endpoint: other }) => other)
        .filter((other) => other !== endpoint && other.currentProducer)
        .map(async (other) => {
          const producer = await this.producerFor(other, other.currentProducer as types.Producer, endpoint);
          if (producer) await endpoint.consume(other.participantId, producer);
        }),
    );
  }

  private async fanOut(source: MediaEndpoint, producer: types.Producer): Promise<void> {
    await Promise.all(
      [...this.endpoints.values()]
        .map(({ endpoint }) => endpoint)
        .filter((ep) => ep !== source)
        .map(async (ep) => {
          try {
            const copy = await this.producerFor(source, producer, ep);
            if (copy) await ep.consume(source.participantId, copy);
          } catch (err) {
            // A receiver whose own parameters cannot take the stream (a WebRTC device that told
            // capabilities without a common codec) does not hear it; that must not fail the
            // newcomer's join, or every later join of the call. Worker failures still do.
            if (!(err instanceof InvalidMediaRequest || err instanceof TypeError)) throw err;
          }
        }),
    );
  }
}
