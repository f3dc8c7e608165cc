import type { types } from 'mediasoup';
import type { EndpointMedia, ProducerStart, RtpSendSpec, SrtpCryptoSuite, SrtpKeys, TransportAddress } from '../control/mediaPlane.js';
import { plainOpusReceiveCapabilities, plainOpusSendParameters } from './codecs.js';
import { MediaEndpoint, type EndpointHooks } from './MediaEndpoint.js';
import { selectionAllows } from './SpeakerSelector.js';

/**
 * One plain-RTP participant inside a call's router: a PlainTransport (rtcp-mux, SRTP when the
 * participant asked for it), the participant's audio Producer, and one Consumer per other
 * participant's producer.
 * The router-level wiring (who consumes whom) belongs to CallRouter.
 */
export class RtpEndpoint extends MediaEndpoint implements EndpointMedia {
  readonly kind = 'rtp';
  /** RFC 6464 ssrc-audio-level extension id of the participant's packets (speaker-aware forwarding); null: none. */
  private audioLevelExtensionId: number | null = null;

  constructor(
    participantId: string,
    private readonly transport: types.PlainTransport,
    private receivePayloadType: number,
    /** The key the participant encrypts with (the worker decrypts with it); null without SRTP. */
    private readonly srtpSendKeyBase64: string | null,
    hooks: EndpointHooks,
    opts: { receivePaused: boolean },
  ) {
    super(participantId, hooks, opts);
    transport.observer.once('close', () => this.close());
  }

  get sendAddress(): TransportAddress {
    return { ip: this.transport.tuple.localIp, port: this.transport.tuple.localPort };
  }

  /**
   * Both directions' keys. The receive key is the transport's own, which the worker generated and
   * keeps (read from the transport: connect() reports it again).
   */
  get srtp(): SrtpKeys | null {
    const local = this.transport.srtpParameters;
    if (this.srtpSendKeyBase64 === null || !local) return null;
    return {
      // Created with one of our suites (SrtpCryptoSuite is a subset of mediasoup's).
      cryptoSuite: local.cryptoSuite as SrtpCryptoSuite,
      sendKeyBase64: this.srtpSendKeyBase64,
      receiveKeyBase64: local.keyBase64,
    };
  }

  /**
   * Creates this endpoint's producer; paused from the start when asked (fail-closed mute). The
   * audio-level extension id given at join stays for later send streams (a PATCH cannot change it).
   */
  async produce(spec: RtpSendSpec & { audioLevelExtensionId?: number }, opts: ProducerStart): Promise<types.Producer> {
    this.assertOpen();
    if (spec.audioLevelExtensionId !== undefined) this.audioLevelExtensionId = spec.audioLevelExtensionId;
    const created = this.transport.produce({
      kind: 'audio',
      rtpParameters: plainOpusSendParameters(spec.payloadType, spec.ssrc, this.audioLevelExtensionId),
      paused: this.startsPaused(opts.sendPaused),
      appData: { participantId: this.participantId },
    });
    // The domain bounds the wait for this confirmation (a muted participant's paused producer).
    opts.producing?.(created);
    const producer = await created;
    this.adoptProducer(producer, opts.sendPaused);
    return producer;
  }

  async replaceSendStream(spec: RtpSendSpec, opts: ProducerStart): Promise<void> {
    this.assertOpen();
    // Close first: the old stream must not keep flowing beside the new one, and the new SSRC
    // may equal the old one.
    this.producer?.close();
    this.receivePayloadType = spec.payloadType;
    const producer = await this.produce(spec, opts);
    await this.hooks.onProducer(this, producer);
  }

  async consume(sourceParticipantId: string, producer: types.Producer): Promise<void> {
    if (this.closed || producer.closed) return;
    await this.creatingConsumer(async () => {
      const consumer = await this.transport.consume({
        producerId: producer.id,
        rtpCapabilities: plainOpusReceiveCapabilities(this.receivePayloadType),
        // Born paused when deafened or when speaker selection holds the source (ConsumerGate takes
        // over from here; a deafen while this is in flight waits for the adoption's pause).
        paused: this.receivePaused || !selectionAllows(producer),
      });
      if (this.closed) {
        consumer.close();
        return;
      }
      return this.adoptConsumer(sourceParticipantId, consumer);
    });
  }

  receiveAddress(): TransportAddress | null {
    const { remoteIp, remotePort } = this.transport.tuple;
    return remoteIp && remotePort ? { ip: remoteIp, port: remotePort } : null;
  }

  protected closeTransports(): void {
    this.transport.close();
  }
}
