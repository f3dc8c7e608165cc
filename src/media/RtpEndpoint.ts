import type { types } from 'mediasoup';
import type { EndpointMedia, ReceivedStream, RtpSendSpec, TransportAddress } from '../control/mediaPlane.js';
import { plainOpusReceiveCapabilities, plainOpusSendParameters } from './codecs.js';

/** How an endpoint tells its CallRouter about changes that concern the other endpoints. */
export interface RtpEndpointHooks {
  /** A new producer of this endpoint must reach everyone else. */
  onProducer(endpoint: RtpEndpoint, producer: types.Producer): Promise<void>;
  onClose(endpoint: RtpEndpoint): void;
}

/**
 * One plain-RTP participant inside a call's router: a PlainTransport (rtcp-mux, no SRTP), the
 * participant's audio Producer, and one Consumer per other participant's producer.
 * The router-level wiring (who consumes whom) belongs to CallRouter; this class only owns its
 * own mediasoup objects and closes them.
 */
export class RtpEndpoint implements EndpointMedia {
  private producer: types.Producer | null = null;
  /** The producer's received-packet count when it was paused (stats request in flight). */
  private pausedAtPacketCount: Promise<number> | null = null;
  private readonly consumers = new Map<string, types.Consumer>();
  private closed = false;

  constructor(
    readonly participantId: string,
    private readonly transport: types.PlainTransport,
    private receivePayloadType: number,
    private readonly hooks: RtpEndpointHooks,
  ) {
    transport.observer.once('close', () => this.close());
  }

  get sendAddress(): TransportAddress {
    return { ip: this.transport.tuple.localIp, port: this.transport.tuple.localPort };
  }

  get currentProducer(): types.Producer | null {
    return this.producer;
  }

  /** Creates this endpoint's producer; paused from the start when asked (fail-closed mute). */
  async produce(spec: RtpSendSpec, opts: { sendPaused: boolean }): Promise<types.Producer> {
    this.assertOpen();
    const producer = await this.transport.produce({
      kind: 'audio',
      rtpParameters: plainOpusSendParameters(spec.payloadType, spec.ssrc),
      paused: opts.sendPaused,
      appData: { participantId: this.participantId },
    });
    this.producer = producer;
    this.pausedAtPacketCount = opts.sendPaused ? Promise.resolve(0) : null;
    producer.observer.once('close', () => {
      if (this.producer === producer) this.producer = null;
    });
    return producer;
  }

  async pauseSend(): Promise<void> {
    const producer = this.requireProducer('pause');
    await producer.pause();
    // The worker still counts what it receives (and drops) while paused; remember where it was.
    // Asked after the pause is confirmed, so the mute reply does not wait for it.
    this.pausedAtPacketCount ??= receivedPackets(producer).catch(() => 0);
  }

  async resumeSend(): Promise<{ packetsDroppedWhilePaused: number }> {
    const producer = this.requireProducer('resume');
    // Requests on the worker channel are handled in order: this count is taken before the resume.
    const countAtResume = this.pausedAtPacketCount ? receivedPackets(producer).catch(() => null) : Promise.resolve(null);
    await producer.resume();
    const [atPause, atResume] = await Promise.all([this.pausedAtPacketCount, countAtResume]);
    this.pausedAtPacketCount = null;
    return { packetsDroppedWhilePaused: atPause !== null && atResume !== null ? Math.max(0, atResume - atPause) : 0 };
  }

  async replaceSendStream(spec: RtpSendSpec, opts: { sendPaused: boolean }): Promise<void> {
    this.assertOpen();
    // Close first: the old stream must not keep flowing beside the new one, and the new SSRC
    // may equal the old one.
    this.producer?.close();
    this.receivePayloadType = spec.payloadType;
    const producer = await this.produce(spec, opts);
    await this.hooks.onProducer(this, producer);
  }

  /** Starts receiving another participant's producer. */
  async consume(sourceParticipantId: string, producer: types.Producer): Promise<void> {
    if (this.closed || producer.closed) return;
    this.consumers.get(sourceParticipantId)?.close();
    const consumer = await this.transport.consume({
      producerId: producer.id,
      rtpCapabilities: plainOpusReceiveCapabilities(this.receivePayloadType),
    });
    if (this.closed) {
      consumer.close();
      return;
    }
    this.consumers.set(sourceParticipantId, consumer);
    consumer.observer.once('close', () => {
      if (this.consumers.get(sourceParticipantId) === consumer) this.consumers.delete(sourceParticipantId);
    });
  }

  receiveAddress(): TransportAddress | null {
    const { remoteIp, remotePort } = this.transport.tuple;
    return remoteIp && remotePort ? { ip: remoteIp, port: remotePort } : null;
  }

  receivedStreams(): ReceivedStream[] {
    return [...this.consumers].map(([sourceParticipantId, consumer]) => ({
      sourceParticipantId,
      ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0,
      payloadType: consumer.rtpParameters.codecs[0]?.payloadType ?? this.receivePayloadType,
    }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.producer = null;
    this.consumers.clear();
    // Closing the transport closes its producer and consumers inside the worker.
    this.transport.close();
    this.hooks.onClose(this);
  }

  private requireProducer(action: string): types.Producer {
    this.assertOpen();
    if (!this.producer || this.producer.closed) {
      throw new Error(`cannot ${action}: participant ${this.participantId} has no live audio producer`);
    }
    return this.producer;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`media of participant ${this.participantId} is closed`);
  }
}

/** RTP packets the worker has received from a producer (counted whether or not it is paused). */
async function receivedPackets(producer: types.Producer): Promise<number> {
  const stats = await producer.getStats();
  return stats.reduce((sum, stat) => sum + stat.packetCount, 0);
}
