import type { types } from 'mediasoup';
import { InvalidMediaRequest, type CallMedia, type EndpointStart, type RtpEndpointSpec } from '../control/mediaPlane.js';
import { SerialQueue } from '../lib/SerialQueue.js';
import type { EndpointHooks, MediaEndpoint } from './MediaEndpoint.js';
import { RtpEndpoint } from './RtpEndpoint.js';
import { participantSendKey } from './srtpKeys.js';
import { WebRtcEndpoint } from './WebRtcEndpoint.js';

export interface MediaListenOptions {
  listenIp: string;
  announcedIp: string;
}

/**
 * The media of one call: a mediasoup Router on one worker, with every participant's endpoint.
 * Fan-out rule of this SFU: every participant consumes every other participant's producer.
 */
export class CallRouter implements CallMedia {
  private readonly endpoints = new Map<string, MediaEndpoint>();
  private readonly lostListeners: ((reason: string) => void)[] = [];
  /**
   * Endpoint additions and producer fan-outs run one at a time, so that two participants joining
   * at once each end up consuming the other exactly once.
   */
  private readonly wiring = new SerialQueue();
  private closed = false;

  constructor(
    readonly callId: string,
    private readonly router: types.Router,
    private readonly listen: MediaListenOptions,
  ) {
    // The worker died under us: every transport is gone already.
    router.observer.once('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.endpoints.clear();
      for (const listener of this.lostListeners) listener('media worker closed');
    });
  }

  addRtpEndpoint(participantId: string, spec: RtpEndpointSpec, opts: EndpointStart): Promise<RtpEndpoint> {
    return this.wiring.run(() => this.createEndpoint(participantId, spec, opts));
  }

  private async createEndpoint(participantId: string, spec: RtpEndpointSpec, opts: EndpointStart): Promise<RtpEndpoint> {
    if (this.closed) throw new Error(`media of call ${this.callId} is closed`);
    if (this.endpoints.has(participantId)) throw new Error(`participant ${participantId} already has media`);

    // Checked (or generated) before any worker object exists: a bad key is the client's mistake.
    const sendKeyBase64 = spec.srtp ? participantSendKey(spec.srtp) : null;
    const transport = await this.router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: this.listen.listenIp, announcedIp: this.listen.announcedIp },
      rtcpMux: true,
      // Latching: the worker learns the address from the first packet. With SRTP it decrypts
      // (authenticates) before it latches, so only the key holder can latch.
      comedia: !spec.receive,
      enableSrtp: spec.srtp !== undefined,
      ...(spec.srtp ? { srtpCryptoSuite: spec.srtp.cryptoSuite } : {}),
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
      this.endpoints.set(participantId, endpoint);
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
      if (this.closed) throw new Error(`media of call ${this.callId} is closed`);
      if (this.endpoints.has(participantId)) throw new Error(`participant ${participantId} already has media`);
      const endpoint = new WebRtcEndpoint(participantId, this.router, this.listen, this.hooks, opts);
      this.endpoints.set(participantId, endpoint);
      // Remembered until the client has a receive transport and has told its capabilities.
      await this.consumeEveryone(endpoint);
      return endpoint;
    });
  }

  rtpCapabilities(): types.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.endpoints.clear();
    this.router.close();
  }

  private readonly hooks: EndpointHooks = {
    onProducer: (ep, producer) => this.wiring.run(() => this.fanOut(ep, producer)),
    onClose: (ep) => {
      if (this.endpoints.get(ep.participantId) === ep) this.endpoints.delete(ep.participantId);
    },
  };

  private async consumeEveryone(endpoint: MediaEndpoint): Promise<void> {
    await Promise.all(
      [...this.endpoints.values()]
        .filter((other) => other !== endpoint && other.currentProducer)
        .map((other) => endpoint.consume(other.participantId, other.currentProducer as types.Producer)),
    );
  }

  private async fanOut(source: MediaEndpoint, producer: types.Producer): Promise<void> {
    await Promise.all(
      [...this.endpoints.values()]
        .filter((ep) => ep !== source)
        .map((ep) =>
          ep.consume(source.participantId, producer).catch((err: unknown) => {
            // A receiver whose own parameters cannot take the stream (a WebRTC device that told
            // capabilities without a common codec) does not hear it; that must not fail the
            // newcomer's join, or every later join of the call. Worker failures still do.
            if (!(err instanceof InvalidMediaRequest || err instanceof TypeError)) throw err;
          }),
        ),
    );
  }
}
