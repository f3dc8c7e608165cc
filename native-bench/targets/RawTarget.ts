import type { types } from 'mediasoup';
import { routerMediaCodecs, plainOpusReceiveCapabilities, plainOpusSendParameters } from '../../src/media/codecs.js';
import { loadMediasoup } from '../../src/media/loadMediasoup.js';
import type { LoadStream } from '../lib/LoadGenerator.js';
import { nowMs, type Address } from '../lib/RtpPeer.js';
import type { BenchTarget, Timed } from './target.js';

/**
 * The baseline: the same topology built with mediasoup directly in the bench's process, one
 * worker, muting by awaiting producer.pause()/resume(). No HTTP, no domain, no queue.
 */
export class RawTarget implements BenchTarget {
  readonly name = 'raw';
  private routers: types.Router[] = [];
  private loadProducers: types.Producer[] = [];
  private probeProducer: types.Producer | null = null;

  private constructor(private readonly worker: types.Worker) {}

  /** The worker process (a child of the bench), for its CPU time. */
  get workerPid(): number {
    return this.worker.pid;
  }

  static async create(rtcMinPort: number, rtcMaxPort: number): Promise<RawTarget> {
    const mediasoup = await loadMediasoup();
    return new RawTarget(await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort, rtcMaxPort }));
  }

  async setupLoad(streams: number, loadSockets: Address[], payloadType: number): Promise<LoadStream[]> {
    const result: LoadStream[] = [];
    for (let pair = 0; pair * 2 < streams; pair++) {
      const router = await this.worker.createRouter({ mediaCodecs: routerMediaCodecs });
      this.routers.push(router);
      const members = [];
      for (let k = 0; k < 2 && pair * 2 + k < streams; k++) {
        const index = pair * 2 + k;
        const socket = index % loadSockets.length;
        const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
        await transport.connect(loadSockets[socket] as Address);
        const ssrc = 100_000 + index;
        const producer = await transport.produce({ kind: 'audio', rtpParameters: plainOpusSendParameters(payloadType, ssrc) });
        this.loadProducers.push(producer);
        members.push({ transport, producer });
        result.push({ to: { ip: transport.tuple.localIp, port: transport.tuple.localPort }, ssrc, payloadType, socket });
      }
      if (members.length === 2) {
        await members[0]!.transport.consume({ producerId: members[1]!.producer.id, rtpCapabilities: plainOpusReceiveCapabilities(payloadType) });
        await members[1]!.transport.consume({ producerId: members[0]!.producer.id, rtpCapabilities: plainOpusReceiveCapabilities(payloadType) });
      }
    }
    return result;
  }

  async setupProbe(probe: Address, receivers: Address[], ssrc: number, payloadType: number): Promise<Address> {
    const router = await this.worker.createRouter({ mediaCodecs: routerMediaCodecs });
    this.routers.push(router);
    const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    await transport.connect(probe);
    this.probeProducer = await transport.produce({ kind: 'audio', rtpParameters: plainOpusSendParameters(payloadType, ssrc) });
    for (const receiver of receivers) {
      const rt = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
      await rt.connect(receiver);
      await rt.consume({ producerId: this.probeProducer.id, rtpCapabilities: plainOpusReceiveCapabilities(payloadType) });
    }
    return { ip: transport.tuple.localIp, port: transport.tuple.localPort };
  }

  muteProbe(): Promise<Timed> {
    return timed(() => (this.probeProducer as types.Producer).pause());
  }

  unmuteProbe(): Promise<Timed> {
    return timed(() => (this.probeProducer as types.Producer).resume());
  }

  async setLoadMuted(i: number, muted: boolean): Promise<void> {
    const producer = this.loadProducers[i % this.loadProducers.length] as types.Producer;
    await (muted ? producer.pause() : producer.resume());
  }

  async teardown(): Promise<void> {
    for (const router of this.routers.splice(0)) router.close();
    this.loadProducers = [];
    this.probeProducer = null;
  }

  async close(): Promise<void> {
    await this.teardown();
    this.worker.close();
  }
}

async function timed(action: () => Promise<void>): Promise<Timed> {
  const requestAt = nowMs();
  await action();
  return { requestAt, ackAt: nowMs() };
}
