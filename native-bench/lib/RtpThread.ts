import type { LoadStream } from './LoadGenerator.js';
import type { Address } from './RtpPeer.js';
import type { RtpCommand } from './rtpThreadWorker.js';
import { ThreadClient } from './ThreadClient.js';

/** The main thread's handle on the RTP thread (see rtpThreadWorker.ts). */
export class RtpThread {
  private constructor(private readonly thread: ThreadClient<RtpCommand>) {}

  static start(): RtpThread {
    return new RtpThread(new ThreadClient<RtpCommand>(new URL('./rtpThreadWorker.ts', import.meta.url), 'RTP thread'));
  }

  openLoad(sockets: number): Promise<Address[]> {
    return this.thread.call({ op: 'openLoad', sockets });
  }

  openProbe(receivers: number): Promise<{ probe: Address; receivers: Address[] }> {
    return this.thread.call({ op: 'openProbe', receivers });
  }

  startLoad(streams: LoadStream[], packetsPerSecond: number, payloadBytes: number): Promise<void> {
    return this.thread.call({ op: 'startLoad', streams, packetsPerSecond, payloadBytes });
  }

  startProbe(to: Address, ssrc: number, payloadType: number, intervalMs: number, payloadBytes: number): Promise<void> {
    return this.thread.call({ op: 'startProbe', to, ssrc, payloadType, intervalMs, payloadBytes });
  }

  /** Probe packets received so far, per receiver. */
  probeReceived(): Promise<number[]> {
    return this.thread.call({ op: 'probeReceived' });
  }

  stopProbe(): Promise<void> {
    return this.thread.call({ op: 'stopProbe' });
  }

  loadCounts(): Promise<{ sent: number; received: number; seconds: number }> {
    return this.thread.call({ op: 'loadCounts' });
  }

  /** Send time of every probe packet (by counter); the counters that reached a receiver and when they first did. */
  probeResults(): Promise<{ sentAt: Float64Array; forwarded: Uint32Array; arrivedAt: Float64Array }> {
    return this.thread.call({ op: 'probeResults' });
  }

  /** Closes every socket and ends the thread. */
  async close(): Promise<void> {
    await this.thread.call({ op: 'close' }).catch(() => undefined);
    await this.thread.terminate();
  }
}
