import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import {
  InvalidMediaRequest,
  type ConsumerOffer,
  type ProducerStart,
  type SignalingBlob,
  type WebRtcEndpointEvents,
  type WebRtcEndpointMedia,
  type WebRtcTransportInfo,
} from '../control/mediaPlane.js';
// Not in mediasoup's public API, but the very validator router.canConsume runs (mediasoup 3.13, pinned).
import { validateRtpCapabilities } from 'mediasoup/node/lib/ortc.js';
import { OPUS_CHANNELS, OPUS_CLOCK_RATE } from './codecs.js';
import { ConsumerGate } from './ConsumerGate.js';
import { MediaEndpoint, type EndpointHooks } from './MediaEndpoint.js';

export interface WebRtcListenOptions {
  listenIp: string;
  announcedIp: string;
}

/**
 * One WebRTC participant inside a call's router: a send and a receive WebRtcTransport
 * (ICE-lite, DTLS, UDP), its audio producer, and one consumer per other participant. Consumers
 * are created paused and offered to the client, which resumes each once its track is ready.
 */
export class WebRtcEndpoint extends MediaEndpoint implements WebRtcEndpointMedia {
  readonly kind = 'webrtc';
  readonly sendAddress = null;
  /** A WebRTC participant's SRTP is keyed by DTLS: there are no keys to hand out. */
  readonly srtp = null;
  private readonly transports = new Map<string, { transport: types.WebRtcTransport; direction: 'send' | 'recv'; connected: boolean }>();
  /** Directions with a transport, or one being created: at most one transport per direction. */
  private readonly directionsTaken = new Set<'send' | 'recv'>();
  private deviceCapabilities: types.RtpCapabilities | null = null;
  /** Producers to consume once the client asks to start consuming. */
  private readonly waiting = new Map<string, types.Producer>();
  private consuming = false;
  /** Consumers the client has resumed (it has its track ready). */
  private readonly clientResumed = new Set<string>();
  private readonly events = new EventEmitter();

  constructor(
    participantId: string,
    private readonly router: types.Router,
    private readonly listen: WebRtcListenOptions,
    hooks: EndpointHooks,
    opts: { receivePaused: boolean },
  ) {
    super(participantId, hooks, opts);
  }

  on<E extends keyof WebRtcEndpointEvents>(event: E, listener: WebRtcEndpointEvents[E]): void {
    this.events.on(event, listener);
  }

  async createTransport(direction: 'send' | 'recv'): Promise<WebRtcTransportInfo> {
    this.assertOpen();
    // Taken before the worker is asked, so that a second request at the same time is refused here:
    // checked against `transports` alone, a burst of requests would each pass before the first
    // transport exists, and each would take a port of the worker (a client could take them all).
    if (this.directionsTaken.has(direction)) throw new InvalidMediaRequest(`participant ${this.participantId} already has a ${direction} transport`);
    this.directionsTaken.add(direction);
    let transport: types.WebRtcTransport;
    try {
      transport = await this.router.createWebRtcTransport({
        listenInfos: [{ protocol: 'udp', ip: this.listen.listenIp, announcedIp: this.listen.announcedIp }],
        enableUdp: true,
        enableTcp: false,
        preferUdp: true,
        appData: { participantId: this.participantId, direction },
      });
    } catch (err) {
      this.directionsTaken.delete(direction);
      throw err;
    }
    if (this.closed) {
      transport.close();
      this.assertOpen();
    }
    this.transports.set(transport.id, { transport, direction, connected: false });
    transport.on('icestatechange', (state) => {
      if (state === 'disconnected' || state === 'closed') this.events.emit('transportFailed', `ICE ${state} on the ${direction} transport`);
    });
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.events.emit('transportFailed', `DTLS ${state} on the ${direction} transport`);
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async connectTransport(transportId: string, dtlsParameters: SignalingBlob): Promise<void> {
    const entry = this.transport(transportId);
    if (entry.connected) throw new InvalidMediaRequest(`transport ${transportId} is already connected`);
    // Marked before the worker answers, so that a second connect at the same time is refused here.
    entry.connected = true;
    try {
      await asClientMistake(entry.transport.connect({ dtlsParameters: dtlsParameters as types.DtlsParameters }));
    } catch (err) {
      entry.connected = false;
      throw err;
    }
  }

  async setRtpCapabilities(rtpCapabilities: SignalingBlob): Promise<void> {
    this.assertOpen();
    this.deviceCapabilities = deviceCapabilities(rtpCapabilities);
  }

  async startConsuming(): Promise<void> {
    this.assertOpen();
    if (!this.deviceCapabilities) throw new InvalidMediaRequest('the device RTP capabilities are not known; join with them first');
    if (![...this.transports.values()].some((t) => t.direction === 'recv')) throw new InvalidMediaRequest('create the receive transport first');
    this.consuming = true;
    const pending = [...this.waiting];
    this.waiting.clear();
    for (const [source, producer] of pending) await this.consume(source, producer);
  }

  async produce(transportId: string, rtpParameters: SignalingBlob, opts: ProducerStart): Promise<{ producerId: string }> {
    const { transport, direction, connected } = this.transport(transportId);
    if (direction !== 'send') throw new InvalidMediaRequest(`transport ${transportId} is a receive transport; produce on the send transport`);
    if (!connected) throw new InvalidMediaRequest(`transport ${transportId} is not connected; connectTransport (DTLS parameters) comes before produce`);
    assertSsrcs(rtpParameters);
    const created = transport.produce({
      kind: 'audio',
      rtpParameters: rtpParameters as types.RtpParameters,
      paused: this.startsPaused(opts.sendPaused),
      appData: { participantId: this.participantId },
    });
    // The domain bounds the wait for this confirmation (a muted participant's paused producer).
    opts.producing?.(created);
    const producer = await asClientMistake(created);
    if (this.closed) {
      producer.close();
      this.assertOpen();
    }
    this.adoptProducer(producer, opts.sendPaused);
    await this.hooks.onProducer(this, producer);
    return { producerId: producer.id };
  }

  async replaceSendStream(): Promise<void> {
    throw new InvalidMediaRequest('a WebRTC participant replaces its stream by producing again');
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    for (const consumer of this.consumers.values()) {
      if (consumer.id === consumerId) {
        this.clientResumed.add(consumerId);
        // It flows only if nothing else holds it: a deafened participant's consumers stay paused
        // until it is undeafened, an unselected speaker's until it is selected (ConsumerGate).
        await ConsumerGate.of(consumer).set('client', false);
        return;
      }
    }
    throw new InvalidMediaRequest(`no consumer ${consumerId} for participant ${this.participantId}`);
  }

  async consume(sourceParticipantId: string, producer: types.Producer): Promise<void> {
    if (this.closed || producer.closed) return;
    const recv = [...this.transports.values()].find((t) => t.direction === 'recv')?.transport;
    if (!recv || !this.deviceCapabilities || !this.consuming) {
      this.waiting.set(sourceParticipantId, producer);
      return;
    }
    if (!this.router.canConsume({ producerId: producer.id, rtpCapabilities: this.deviceCapabilities })) {
      throw new InvalidMediaRequest(`participant ${this.participantId}'s device cannot receive ${sourceParticipantId}'s audio (no common codec)`);
    }
    const consumer = await recv.consume({ producerId: producer.id, rtpCapabilities: this.deviceCapabilities, paused: true });
    if (this.closed) {
      consumer.close();
      return;
    }
    this.adoptConsumer(sourceParticipantId, consumer);
    consumer.observer.once('close', () => this.events.emit('consumerClosed', consumer.id));
    const offer: ConsumerOffer = {
      consumerId: consumer.id,
      producerId: producer.id,
      sourceParticipantId,
      kind: 'audio',
      rtpParameters: consumer.rtpParameters,
    };
    this.events.emit('consumer', offer);
  }

  protected override ownHolds(consumer: types.Consumer): { deafened: boolean; client: boolean } {
    return { deafened: this.receivePaused, client: !this.clientResumed.has(consumer.id) };
  }

  receiveAddress(): null {
    return null;
  }

  protected closeTransports(): void {
    this.waiting.clear();
    for (const { transport } of this.transports.values()) transport.close();
    this.transports.clear();
    this.events.removeAllListeners();
  }

  private transport(transportId: string): { transport: types.WebRtcTransport; direction: 'send' | 'recv'; connected: boolean } {
    this.assertOpen();
    const entry = this.transports.get(transportId);
    if (!entry) throw new InvalidMediaRequest(`no transport ${transportId} for participant ${this.participantId}`);
    return entry;
  }
}

/**
 * mediasoup rejects what a client asked for wrongly (parameters it cannot use, an unsupported
 * codec, a step in the wrong state) with TypeError, UnsupportedError or InvalidStateError: the
 * client's mistake (a 400), not the worker failing (a 503).
 */
async function asClientMistake<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof Error && ['TypeError', 'UnsupportedError', 'InvalidStateError'].includes(err.name)) throw new InvalidMediaRequest(err.message);
    // A produce naming an SSRC, MID or RID the transport's current producer has: the worker refuses
    // it with a plain Error (RtpListener::AddProducer), but it is the client's mistake, not a
    // worker failure worth a retry.
    if (err instanceof Error && err.message.includes('already exists in RTP listener')) throw new InvalidMediaRequest(err.message);
    throw err;
  }
}

/** SSRCs are 32-bit (RFC 3550); mediasoup would take a larger number and truncate it. */
function assertSsrcs(rtpParameters: SignalingBlob): void {
  const encodings = (rtpParameters as { encodings?: unknown }).encodings;
  if (!Array.isArray(encodings)) return; // mediasoup reports the missing field itself
  for (const encoding of encodings as { ssrc?: unknown; rtx?: { ssrc?: unknown } }[]) {
    for (const ssrc of [encoding?.ssrc, encoding?.rtx?.ssrc]) {
      if (ssrc !== undefined && !(Number.isInteger(ssrc) && (ssrc as number) >= 0 && (ssrc as number) <= 0xffffffff)) {
        throw new InvalidMediaRequest(`rtpParameters.encodings: ssrc ${String(ssrc)} is not a 32-bit unsigned integer`);
      }
    }
  }
}

/**
 * The device's RTP capabilities, checked at join: the shape mediasoup reads (a `codecs` array of
 * codec objects) and Opus at 48 kHz among its audio codecs, the one codec this SFU forwards. A
 * device that cannot take it is refused at join (400), not later, when its receive transport has
 * been answered already and the refusal would be a second answer to the same request.
 */
export function deviceCapabilities(blob: SignalingBlob): types.RtpCapabilities {
  const caps = blob as { codecs?: unknown; headerExtensions?: unknown } | null;
  if (typeof caps !== 'object' || caps === null || !Array.isArray(caps.codecs)) {
    throw new InvalidMediaRequest('rtpCapabilities must be an object with a codecs array (mediasoup-client device.rtpCapabilities)');
  }
  if (caps.headerExtensions !== undefined && !Array.isArray(caps.headerExtensions)) {
    throw new InvalidMediaRequest('rtpCapabilities.headerExtensions must be an array');
  }
  const codecs = caps.codecs as unknown[];
  const valid = codecs.every((c) => {
    const codec = c as { kind?: unknown; mimeType?: unknown; clockRate?: unknown } | null;
    return typeof codec === 'object' && codec !== null && (codec.kind === 'audio' || codec.kind === 'video') && typeof codec.mimeType === 'string' && Number.isInteger(codec.clockRate);
  });
  if (!valid) throw new InvalidMediaRequest('every rtpCapabilities codec needs kind ("audio" or "video"), mimeType and an integer clockRate');
  // What mediasoup will check when it creates a consumer for this device (router.canConsume), checked
  // now on a copy (the validator fills in defaults): capabilities it refuses there would make the
  // receive transport's answer be followed by a second one, a refusal, for the same request.
  const validated = structuredClone(caps) as types.RtpCapabilities;
  try {
    validateRtpCapabilities(validated);
  } catch (err) {
    throw new InvalidMediaRequest(`rtpCapabilities: ${(err as Error).message}`);
  }
  // mediasoup matches a codec on its channels too, and reads an audio codec without `channels` as mono.
  const opus = (validated.codecs ?? []).some(
    (codec) => codec.kind === 'audio' && codec.mimeType.toLowerCase() === 'audio/opus' && codec.clockRate === OPUS_CLOCK_RATE && codec.channels === OPUS_CHANNELS,
  );
  if (!opus) throw new InvalidMediaRequest(`the device cannot receive audio/opus at ${OPUS_CLOCK_RATE} Hz, ${OPUS_CHANNELS} channels, the only codec this server forwards`);
  return caps as types.RtpCapabilities;
}
