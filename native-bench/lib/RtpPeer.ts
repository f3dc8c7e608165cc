import { createSocket, type Socket } from 'node:dgram';
import { audioLevelExtension, encodeRtpWithExtension, type AudioLevel } from './bigcall/audioLevel.js';
import { decodeProbe, decodeRtp, encodeProbe, encodeRtp, type RtpPacket } from './rtp.js';
import type { SrtpEndpointCodec } from './srtp.js';

export interface Address {
  ip: string;
  port: number;
}

export interface ReceivedProbe {
  senderId: number;
  counter: number;
  sentAtMs: number;
  receivedAtMs: number;
  /** SSRC as re-sent by the SFU (one per consumed participant). */
  ssrc: number;
  payloadType: number;
}

export interface SendOptions {
  to: Address;
  payloadType: number;
  ssrc: number;
  /** Packet interval; 20 ms is one Opus frame. */
  intervalMs: number;
  payloadBytes?: number;
}

/**
 * Monotonic time in ms (CLOCK_MONOTONIC via process.hrtime), the same clock in every thread of
 * the process, so send times recorded in the RTP thread compare with request times in the main one.
 */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * A plain-RTP endpoint on 127.0.0.1: streams probe packets to the SFU and records every probe
 * it receives. Used by the integration tests and the bench; real UDP, nothing simulated.
 * With `srtp` set it speaks SRTP both ways; without it (the bench) nothing else is done per packet.
 */
export class RtpPeer {
  readonly received: ReceivedProbe[] = [];
  /** Send time of every packet, indexed by counter; kept only when `recordSends` is on (probes). */
  readonly sentAt: number[] = [];
  recordSends = false;
  /** Counter of the next packet to be sent: every packet with a counter ≥ this was sent later. */
  nextCounter = 0;
  /** SRTP keys of this leg; null = plain RTP. */
  srtp: SrtpEndpointCodec | null = null;
  /**
   * When set, every packet sent carries this RFC 6464 audio level (one-byte header extension
   * under `audioLevel.id`); change it between packets to make the peer loud, quiet or silent.
   */
  audioLevel: AudioLevel | null = null;
  /** When set, every datagram this peer sends is also appended here (e.g. to replay it from elsewhere). */
  sentDatagrams: Buffer[] | null = null;
  /** Every datagram that reached the socket, whatever it was. */
  datagramsReceived = 0;
  /** RTP packets received, probes or not (for an SRTP peer: those that authenticated). */
  rtpPacketsReceived = 0;
  /** Datagrams that did not authenticate under the SRTP receive key (dropped). */
  srtpRejected = 0;
  /** When set, told of every RTP packet received, probe or not (e.g. to watch one SSRC). */
  onRtp: ((rtp: RtpPacket, receivedAtMs: number) => void) | null = null;
  private socket: Socket;
  private timer: NodeJS.Timeout | null = null;
  private sequenceNumber = Math.floor(Math.random() * 0xffff);
  private timestamp = Math.floor(Math.random() * 0xffffffff);

  private constructor(
    readonly senderId: number,
    socket: Socket,
  ) {
    this.socket = socket;
    socket.on('message', (msg) => this.onMessage(msg));
  }

  static async open(senderId: number, ip = '127.0.0.1'): Promise<RtpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, ip, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new RtpPeer(senderId, socket);
  }

  get address(): Address {
    const { address, port } = this.socket.address();
    return { ip: address, port };
  }

  /** Sends one probe packet now. */
  sendOne(opts: Omit<SendOptions, 'intervalMs'>, samplesPerPacket = 960): void {
    const sentAtMs = nowMs();
    if (this.recordSends) this.sentAt[this.nextCounter] = sentAtMs;
    const payload = encodeProbe({ senderId: this.senderId, counter: this.nextCounter++, sentAtMs }, opts.payloadBytes);
    const header = {
      payloadType: opts.payloadType,
      sequenceNumber: this.sequenceNumber++ & 0xffff,
      timestamp: (this.timestamp += samplesPerPacket) >>> 0,
      ssrc: opts.ssrc,
      marker: false,
      payload,
    };
    const packet = this.audioLevel ? encodeRtpWithExtension(header, audioLevelExtension(this.audioLevel)) : encodeRtp(header);
    const datagram = this.srtp ? this.srtp.protect(packet) : packet;
    this.sentDatagrams?.push(datagram);
    this.socket.send(datagram, opts.to.port, opts.to.ip);
  }

  /** Sends bytes as they are (a replayed or hand-made datagram). */
  sendDatagram(datagram: Buffer, to: Address): void {
    this.socket.send(datagram, to.port, to.ip);
  }

  /** Streams probe packets until stop(). */
  start(opts: SendOptions): void {
    this.stop();
    const samples = Math.round((48000 * opts.intervalMs) / 1000);
    this.sendOne(opts, samples);
    this.timer = setInterval(() => this.sendOne(opts, samples), opts.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Probes received from one sender. */
  from(senderId: number): ReceivedProbe[] {
    return this.received.filter((p) => p.senderId === senderId);
  }

  close(): void {
    this.stop();
    this.socket.close();
  }

  private onMessage(msg: Buffer): void {
    const receivedAtMs = nowMs();
    this.datagramsReceived++;
    const plain = this.srtp ? this.unprotect(msg) : msg;
    if (!plain) return;
    const rtp = decodeRtp(plain);
    if (!rtp) return;
    this.rtpPacketsReceived++;
    this.onRtp?.(rtp, receivedAtMs);
    const probe = decodeProbe(rtp.payload);
    if (!probe) return;
    this.received.push({ ...probe, receivedAtMs, ssrc: rtp.ssrc, payloadType: rtp.payloadType });
  }

  /** The RTP inside an SRTP datagram; null for SRTCP (the SFU's reports, not read here) and for what does not authenticate. */
  private unprotect(msg: Buffer): Buffer | null {
    if (msg.length >= 2 && msg[1]! >= 192 && msg[1]! <= 223) return null;
    const plain = (this.srtp as SrtpEndpointCodec).unprotect(msg);
    if (!plain) this.srtpRejected++;
    return plain;
  }
}
