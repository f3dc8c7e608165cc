import { randomBytes } from 'node:crypto';
import type {
  CallMedia,
  EndpointMedia,
  EndpointStart,
  MediaPlane,
  ReceivedStream,
  RtpEndpointSpec,
  RtpSendSpec,
  SignalingBlob,
  SrtpKeys,
  SrtpRequest,
  TransportAddress,
  WebRtcEndpointEvents,
  WebRtcEndpointMedia,
  WebRtcTransportInfo,
} from '../../src/control/mediaPlane.js';

/**
 * In-memory MediaPlane for control-plane unit tests (no worker). It records what the domain
 * asked for, and each pause/resume can be held open or made to fail to probe ordering and
 * failure handling. Integration tests use the real mediasoup worker instead.
 */
export class FakeMediaPlane implements MediaPlane {
  readonly calls: FakeCallMedia[] = [];
  openCalls = 0;
  /** The next this-many openCall attempts fail (no live worker). */
  failOpens = 0;

  async openCall(callId: string): Promise<CallMedia> {
    if (this.failOpens > 0) {
      this.failOpens--;
      throw new Error('no live mediasoup worker');
    }
    const call = new FakeCallMedia(callId);
    this.calls.push(call);
    this.openCalls++;
    return call;
  }

  endpoint(participantId: string): FakeEndpoint {
    for (const call of this.calls) {
      const ep = call.endpoints.find((e) => e.participantId === participantId);
      if (ep) return ep;
    }
    throw new Error(`no fake endpoint for ${participantId}`);
  }
}

export class FakeCallMedia implements CallMedia {
  readonly endpoints: FakeEndpoint[] = [];
  closed = false;
  private lost: ((reason: string) => void)[] = [];

  constructor(readonly callId: string) {}

  async addRtpEndpoint(participantId: string, spec: RtpEndpointSpec, opts: EndpointStart): Promise<EndpointMedia> {
    const ep = new FakeEndpoint(participantId, spec, opts.sendPaused, spec.srtp);
    ep.receivePaused = opts.receivePaused;
    this.endpoints.push(ep);
    return ep;
  }

  async addWebRtcEndpoint(participantId: string, opts: { receivePaused: boolean }): Promise<WebRtcEndpointMedia> {
    const ep = new FakeWebRtcEndpoint(participantId);
    ep.receivePaused = opts.receivePaused;
    this.endpoints.push(ep);
    return ep;
  }

  /** No codecs in memory: any device can take part (the real check is tested with the worker). */
  assertDeviceCapabilities(_rtpCapabilities: SignalingBlob): void {}

  rtpCapabilities(): SignalingBlob {
    return { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] };
  }

  onLost(listener: (reason: string) => void): void {
    this.lost.push(listener);
  }

  /** Simulates the worker dying under the call. */
  loseMedia(reason = 'worker died'): void {
    for (const ep of this.endpoints) ep.closed = true;
    for (const l of this.lost) l(reason);
  }

  close(): void {
    this.closed = true;
    for (const ep of this.endpoints) ep.close();
  }
}

/** 30 random bytes (AES_CM_128 keying material length); the fake never decrypts. */
const fakeKey = (): string => randomBytes(30).toString('base64');

type Gate = { promise: Promise<void>; release: () => void; fail: (err: Error) => void };

function gate(): Gate {
  let release!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    release = res;
    fail = rej;
  });
  return { promise, release, fail };
}

export class FakeEndpoint implements EndpointMedia {
  readonly kind: 'rtp' | 'webrtc' = 'rtp';
  readonly sendAddress: TransportAddress | null = { ip: '127.0.0.1', port: 40000 };
  /** Like the real plane: the asked-for send key or a random one, and a random receive key. */
  readonly srtp: SrtpKeys | null;
  /** What the "worker" currently does with this endpoint's send stream. */
  sendPaused: boolean;
  /** Whether its consumers are paused (deafened). */
  receivePaused = false;
  closed = false;
  /** Every media call, in order: 'pause', 'resume', 'replace:<paused>'. */
  readonly log: string[] = [];
  /** When set, the next pause/resume waits on this gate. */
  private held: Gate | null = null;
  failNext: Error | null = null;

  constructor(
    readonly participantId: string,
    public spec: RtpSendSpec,
    startPaused: boolean,
    srtp?: SrtpRequest,
  ) {
    this.sendPaused = startPaused;
    this.srtp = srtp ? { cryptoSuite: srtp.cryptoSuite, sendKeyBase64: srtp.keyBase64 ?? fakeKey(), receiveKeyBase64: fakeKey() } : null;
  }

  /** Holds the next pause/resume until the returned gate is released or failed. */
  hold(): Gate {
    this.held = gate();
    return this.held;
  }

  /** No worker to stop: an in-memory plane has no sockets that could hold packets. */
  abandonUnconfirmedPause(): boolean {
    return false;
  }

  async pauseSend(): Promise<void> {
    await this.step('pause');
    this.sendPaused = true;
  }

  async resumeSend(): Promise<{ packetsDroppedWhilePaused: number }> {
    await this.step('resume');
    this.sendPaused = false;
    return { packetsDroppedWhilePaused: 0 };
  }

  async pauseReceive(): Promise<void> {
    await this.step('pauseReceive');
    this.receivePaused = true;
  }

  async resumeReceive(): Promise<void> {
    await this.step('resumeReceive');
    this.receivePaused = false;
  }

  async replaceSendStream(spec: RtpSendSpec, opts: { sendPaused: boolean }): Promise<void> {
    this.log.push(`replace:${opts.sendPaused}`);
    this.spec = spec;
    this.sendPaused = opts.sendPaused;
  }

  receiveAddress(): TransportAddress | null {
    return null;
  }

  receivedStreams(): ReceivedStream[] {
    return [];
  }

  close(): void {
    this.closed = true;
  }

  private async step(name: string): Promise<void> {
    this.log.push(name);
    if (this.closed) throw new Error('endpoint closed');
    const held = this.held;
    this.held = null;
    if (held) await held.promise;
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
  }
}

/** A WebRTC participant's media without a worker: records produce calls and whether they were paused. */
export class FakeWebRtcEndpoint extends FakeEndpoint implements WebRtcEndpointMedia {
  override readonly kind = 'webrtc';
  override readonly sendAddress = null;
  readonly produced: { transportId: string; paused: boolean }[] = [];

  constructor(participantId: string) {
    super(participantId, { payloadType: 111, ssrc: 0 }, false);
  }

  async createTransport(direction: 'send' | 'recv'): Promise<WebRtcTransportInfo> {
    return { id: `${direction}-transport`, iceParameters: {}, iceCandidates: [], dtlsParameters: {} };
  }

  async connectTransport(): Promise<void> {}

  async setRtpCapabilities(): Promise<void> {}

  async startConsuming(): Promise<void> {}

  async produce(transportId: string, _rtpParameters: SignalingBlob, opts: { sendPaused: boolean }): Promise<{ producerId: string }> {
    this.produced.push({ transportId, paused: opts.sendPaused });
    this.sendPaused = opts.sendPaused;
    return { producerId: `producer-${this.produced.length}` };
  }

  async resumeConsumer(): Promise<void> {}

  on<E extends keyof WebRtcEndpointEvents>(_event: E, _listener: WebRtcEndpointEvents[E]): void {}
}
