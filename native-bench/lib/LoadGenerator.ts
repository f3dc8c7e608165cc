import { createSocket, type Socket } from 'node:dgram';
import { encodeRtp } from './rtp.js';
import { nowMs, type Address } from './RtpPeer.js';

export interface LoadStream {
  /** Where the SFU receives this stream. */
  to: Address;
  ssrc: number;
  payloadType: number;
  /** Which of the generator's sockets sends it (and receives what the SFU sends back). */
  socket: number;
}

/**
 * N background audio streams over a few shared UDP sockets on 127.0.0.1: each stream sends one
 * RTP packet every 1/rate s with an Opus-sized payload. A socket can serve many streams, because
 * each SFU transport is connected to the socket's address. Sending catches up with the clock
 * every millisecond, so the total rate holds even when timers are late.
 */
export class LoadGenerator {
  sent = 0;
  received = 0;
  private timer: NodeJS.Timeout | null = null;
  private streams: LoadStream[] = [];
  private seq: number[] = [];
  private next = 0;

  private constructor(private readonly sockets: Socket[]) {
    for (const socket of sockets) socket.on('message', () => this.received++);
  }

  static async open(socketCount: number): Promise<LoadGenerator> {
    const sockets = await Promise.all(
      Array.from({ length: socketCount }, async () => {
        const socket = createSocket('udp4');
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(0, '127.0.0.1', () => resolve());
        });
        return socket;
      }),
    );
    return new LoadGenerator(sockets);
  }

  get addresses(): Address[] {
    return this.sockets.map((s) => ({ ip: s.address().address, port: s.address().port }));
  }

  start(streams: LoadStream[], packetsPerSecond: number, payloadBytes: number): void {
    this.stop();
    this.streams = streams;
    this.seq = streams.map(() => Math.floor(Math.random() * 0xffff));
    if (streams.length === 0) return;
    const payload = Buffer.alloc(payloadBytes, 0xf8); // looks like Opus comfort noise to nobody in particular
    const perMs = (streams.length * packetsPerSecond) / 1000;
    const started = nowMs();
    let due = 0;
    this.timer = setInterval(() => {
      const target = Math.floor((nowMs() - started) * perMs);
      // Never burst more than 100 ms worth after a stall.
      due = Math.max(due, target - Math.ceil(perMs * 100));
      for (; due < target; due++) {
        const i = this.next;
        this.next = (this.next + 1) % this.streams.length;
        const stream = this.streams[i] as LoadStream;
        const seq = (this.seq[i] = ((this.seq[i] as number) + 1) & 0xffff);
        const packet = encodeRtp({ payloadType: stream.payloadType, sequenceNumber: seq, timestamp: seq * 960, ssrc: stream.ssrc, marker: false, payload });
        (this.sockets[stream.socket] as Socket).send(packet, stream.to.port, stream.to.ip);
        this.sent++;
      }
    }, 1);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  close(): void {
    this.stop();
    for (const s of this.sockets) s.close();
  }
}
