import type { types } from 'mediasoup';
import type { ReceivedStream } from '../control/mediaPlane.js';
import { ConsumerGate } from './ConsumerGate.js';
import type { Fenced, MediaFence } from './MediaFence.js';
import { receiveCounters } from './receiveCounters.js';

/** How an endpoint tells its CallRouter about changes that concern the other endpoints. */
export interface EndpointHooks {
  /** A new producer of this endpoint must reach everyone else. */
  onProducer(endpoint: MediaEndpoint, producer: types.Producer): Promise<void>;
  /**
   * Pauses the producer's copies in the call's other routers (pipes, see ProducerPipes);
   * resolves once their workers confirmed. Called beside the producer's own pause.
   */
  pauseCopies(endpoint: MediaEndpoint, producer: types.Producer): Promise<void>;
  /** Resumes the producer's copies in the call's other routers; resolves once confirmed. */
  resumeCopies(endpoint: MediaEndpoint, producer: types.Producer): Promise<void>;
  onClose(endpoint: MediaEndpoint): void;
  /** Kills the worker this endpoint's transports are on (see abandonUnconfirmedPause). */
  killWorker(endpoint: MediaEndpoint): boolean;
  /** This process's media fence: while it is up, the send stream stays paused whatever the domain asks. */
  readonly fence: MediaFence;
}

/**
 * What every participant's media has in common, whatever its transport: at most one audio
 * producer (the participant's voice, which mute pauses), one consumer per other participant,
 * and an explicit close. Subclasses own their transports.
 */
export abstract class MediaEndpoint implements Fenced {
  abstract readonly kind: 'rtp' | 'webrtc';
  protected producer: types.Producer | null = null;
  protected readonly consumers = new Map<string, types.Consumer>();
  protected closed = false;
  /** Deafened: every consumer is paused and new ones start paused. */
  protected receivePaused: boolean;
  /** The pauseSend (its number) whose pause of the producer the worker has not confirmed yet. */
  private unconfirmedPause: number | null = null;
  /** Consumers asked of the worker and not adopted (and gated) yet: see pauseReceive. */
  private readonly adoptionsInFlight = new Set<Promise<void>>();
  /** The producer's received-packet count when it was paused (a stats request may be in flight). */
  private pausedAtPacketCount: Promise<number> | null = null;
  /**
   * pauseSend() calls so far. A resume confirmed after the domain gave up on it (its bound, see
   * CallService.confirmResume) has a pause right behind it: it must not clear the count of that
   * pause, or the packets dropped while muted would no longer be reported at the next unmute.
   */
  private pausesAsked = 0;
  /** Whether the domain wants the send stream flowing (its latest ask); the fence may hold it paused anyway. */
  private sendWanted = false;

  constructor(
    readonly participantId: string,
    protected readonly hooks: EndpointHooks,
    opts: { receivePaused: boolean },
  ) {
    this.receivePaused = opts.receivePaused;
    hooks.fence.track(this);
  }

  /** Whether a producer created now must start paused: the domain asks it, or the fence is up. */
  protected startsPaused(sendPaused: boolean): boolean {
    return sendPaused || this.hooks.fence.up;
  }

  get currentProducer(): types.Producer | null {
    return this.producer;
  }

  /** Starts receiving another participant's producer (no-op if this endpoint cannot yet). */
  abstract consume(sourceParticipantId: string, producer: types.Producer): Promise<void>;

  /**
   * Pauses the send stream inside the worker. Without a producer nothing can flow: done.
   * The worker keeps counting what it receives (and drops) while paused; we note where it was.
   */
  async pauseSend(): Promise<void> {
    const producer = this.liveProducer();
    this.sendWanted = false;
    if (!producer) return;
    this.pausesAsked++;
    // Until its own worker confirms, a pause of the producer is unconfirmed (abandonUnconfirmedPause).
    const pause = producer.pause();
    const asked = this.pausesAsked;
    this.unconfirmedPause = asked;
    void pause.then(
      () => {
        if (this.unconfirmedPause === asked) this.unconfirmedPause = null;
      },
      () => undefined,
    );
    // A call spread over workers: the pipe copies are paused too, and the mute waits for both.
    const paused = Promise.all([pause, this.hooks.pauseCopies(this, producer)]);
    // Requests on the worker channel are handled in order: this count is taken right after the
    // pause, and asked in the same turn so that its write happens while the worker is busy with
    // the pause, not between the pause's confirmation and the mute's reply. Not awaited here.
    const count = this.pausedAtPacketCount ? null : receivedPackets(producer).catch(() => 0);
    await paused;
    this.pausedAtPacketCount ??= count;
  }

  async resumeSend(): Promise<{ packetsDroppedWhilePaused: number }> {
    const producer = this.liveProducer();
    this.sendWanted = true;
    if (!producer) return { packetsDroppedWhilePaused: 0 };
    if (this.hooks.fence.up) {
      // Carried out when the fence is lifted (releaseSend). The drop count restarts from there.
      this.pausedAtPacketCount = null;
      return { packetsDroppedWhilePaused: 0 };
    }
    // Requests on the worker channel are handled in order: this count is taken before the resume
    // (so nothing forwarded after it is ever counted as dropped). Its answer also comes back
    // before the resume's, so waiting for both below costs no extra round trip, only microtasks.
    const countAtResume = this.pausedAtPacketCount ? receivedPackets(producer).catch(() => null) : Promise.resolve(null);
    const pausesBefore = this.pausesAsked;
    await Promise.all([producer.resume(), this.hooks.resumeCopies(this, producer)]);
    const [atPause, atResume] = await Promise.all([this.pausedAtPacketCount, countAtResume]);
    // Paused again meanwhile (this resume came too late): the stream is paused since that mute's count.
    if (this.pausesAsked === pausesBefore) this.pausedAtPacketCount = null;
    return { packetsDroppedWhilePaused: atPause !== null && atResume !== null ? Math.max(0, atResume - atPause) : 0 };
  }

  /** Deafen: holds every consumer paused (ConsumerGate); resolves once the worker confirmed each. */
  async pauseReceive(): Promise<void> {
    this.assertOpen();
    this.receivePaused = true;
    await Promise.all([
      ...[...this.consumers.values()].map((c) => ConsumerGate.of(c).set('deafened', true)),
      // A consumer asked of the worker before this deafen (not born paused) flows from its
      // creation until its adoption pauses it: the deafen's answer waits for that pause too, or
      // the listener could hear its first packets after the 200.
      ...this.adoptionsInFlight,
    ]);
  }

  /** Undeafen: releases this endpoint's hold; a consumer flows again unless something else holds it. */
  async resumeReceive(): Promise<void> {
    this.assertOpen();
    this.receivePaused = false;
    await Promise.all([...this.consumers.values()].map((c) => ConsumerGate.of(c).set('deafened', false)));
  }

  /** This endpoint's holds on a new consumer (see ConsumerGate); WebRTC adds the client's. */
  protected ownHolds(_consumer: types.Consumer): { deafened: boolean; client?: boolean } {
    return { deafened: this.receivePaused };
  }

  receivedStreams(): ReceivedStream[] {
    return [...this.consumers].map(([sourceParticipantId, consumer]) => ({
      sourceParticipantId,
      ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0,
      payloadType: consumer.rtpParameters.codecs[0]?.payloadType ?? 0,
    }));
  }

  /**
   * The producer's worker has not confirmed the latest pause and the domain gave up on it: that
   * worker is stalled (frozen, or far behind) with the participant's packets waiting in its UDP
   * socket, including what was sent after the mute's 503, and would forward them before it reads
   * the pause and the teardown. Killed, its sockets and their backlog go with it. A pipe copy's
   * worker needs nothing: once the source worker stopped sending into the pipe, what waits there
   * was sent before the mute was asked.
   */
  abandonUnconfirmedPause(): boolean {
    if (this.closed || this.unconfirmedPause === null) return false;
    return this.hooks.killWorker(this);
  }

  /**
   * The fence went up: the send stream is paused in the worker (and in the call's other workers)
   * whatever the domain wants. A pause is asked even if the producer looks paused: a resume may
   * be on its way to the worker, and the worker handles requests in order.
   */
  async holdSend(): Promise<void> {
    const producer = this.closed ? null : this.producer;
    if (!producer || producer.closed) return;
    await Promise.all([producer.pause(), this.hooks.pauseCopies(this, producer)]);
  }

  /** The fence was lifted: the send stream flows again if the domain wants it (not muted). */
  async releaseSend(): Promise<void> {
    const producer = this.closed ? null : this.producer;
    if (!producer || producer.closed || !this.sendWanted || this.hooks.fence.up) return;
    await Promise.all([producer.resume(), this.hooks.resumeCopies(this, producer)]);
  }

  /** Releases the participant's media (idempotent); closing the transports closes producer and consumers in the worker. */
  close(): void {
    if (this.closed) return;
    this.hooks.fence.untrack(this);
    this.closed = true;
    this.producer = null;
    this.consumers.clear();
    this.closeTransports();
    this.hooks.onClose(this);
  }

  protected abstract closeTransports(): void;

  /** Adopts a newly created producer as this endpoint's send stream (closing any previous one). */
  protected adoptProducer(producer: types.Producer, startedPaused: boolean): void {
    if (this.producer && this.producer !== producer) this.producer.close();
    this.producer = producer;
    this.pausedAtPacketCount = startedPaused ? Promise.resolve(0) : null;
    this.sendWanted = !startedPaused;
    producer.observer.once('close', () => {
      if (this.producer === producer) this.producer = null;
    });
    // Asked of the worker before the fence went up, so created flowing: held now. Asked while it
    // stood and answered after it was lifted (the lift found no producer to resume): resumed now.
    if (this.hooks.fence.up && !producer.paused) void this.holdSend().catch(() => undefined);
    else if (!this.hooks.fence.up && this.sendWanted && producer.paused) void this.releaseSend().catch(() => undefined);
  }

  /**
   * Runs a consumer's creation and adoption (`create` resolves with adoptConsumer's promise, so
   * once the worker confirmed the state adoption asked for), known to pauseReceive until then.
   */
  protected async creatingConsumer(create: () => Promise<void>): Promise<void> {
    const done = create();
    const settled = done.catch(() => undefined);
    this.adoptionsInFlight.add(settled);
    try {
      await done;
    } finally {
      this.adoptionsInFlight.delete(settled);
    }
  }

  /**
   * Records a consumer of `sourceParticipantId`, replacing (and closing) an older one. Resolves
   * once the worker confirmed the state its holds ask for (never rejects: a failure is the
   * consumer closing under us, and nothing flows then).
   */
  protected adoptConsumer(sourceParticipantId: string, consumer: types.Consumer): Promise<void> {
    const previous = this.consumers.get(sourceParticipantId);
    if (previous && previous !== consumer) previous.close();
    this.consumers.set(sourceParticipantId, consumer);
    // From here on the consumer flows exactly when nobody holds it (deafen, speaker selection, …).
    // A failure here is the consumer closing under us: nothing flows then.
    const gated = ConsumerGate.of(consumer)
      .adopt(this.ownHolds(consumer))
      .catch(() => undefined);
    consumer.observer.once('close', () => {
      if (this.consumers.get(sourceParticipantId) === consumer) this.consumers.delete(sourceParticipantId);
    });
    return gated;
  }

  protected assertOpen(): void {
    if (this.closed) throw new Error(`media of participant ${this.participantId} is closed`);
  }

  private liveProducer(): types.Producer | null {
    this.assertOpen();
    return this.producer && !this.producer.closed ? this.producer : null;
  }
}

/** RTP packets the worker has received from a producer (counted whether or not it is paused). */
async function receivedPackets(producer: types.Producer): Promise<number> {
  return (await receiveCounters(producer)).packets;
}
