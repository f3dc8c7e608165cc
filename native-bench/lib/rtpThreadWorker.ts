/**
 * The bench's RTP thread: background load, the probe sender and the probe receivers. Packet I/O
 * runs here so that the main thread, which times the API calls, is not slowed by thousands of
 * packets per second; both threads use the same monotonic clock (nowMs).
 */
import { LoadGenerator, type LoadStream } from './LoadGenerator.js';
import { nowMs, RtpPeer, type Address } from './RtpPeer.js';
import { serveThread } from './serveThread.js';

export type RtpCommand =
  | { op: 'openLoad'; sockets: number }
  | { op: 'openProbe'; receivers: number }
  | { op: 'startLoad'; streams: LoadStream[]; packetsPerSecond: number; payloadBytes: number }
  | { op: 'startProbe'; to: Address; ssrc: number; payloadType: number; intervalMs: number; payloadBytes: number }
  | { op: 'probeReceived' }
  | { op: 'stopProbe' }
  | { op: 'loadCounts' }
  | { op: 'probeResults' }
  | { op: 'close' };

let load: LoadGenerator | null = null;
let loadStarted = 0;
let probe: RtpPeer | null = null;
let receivers: RtpPeer[] = [];

async function handle(cmd: RtpCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'openLoad':
      load = await LoadGenerator.open(cmd.sockets);
      return load.addresses;
    case 'openProbe':
      probe = await RtpPeer.open(0x9e0b);
      probe.recordSends = true;
      receivers = await Promise.all(Array.from({ length: cmd.receivers }, (_, i) => RtpPeer.open(i + 1)));
      return { probe: probe.address, receivers: receivers.map((r) => r.address) };
    case 'startLoad':
      loadStarted = nowMs();
      load?.start(cmd.streams, cmd.packetsPerSecond, cmd.payloadBytes);
      return null;
    case 'startProbe':
      probe?.start({ to: cmd.to, ssrc: cmd.ssrc, payloadType: cmd.payloadType, intervalMs: cmd.intervalMs, payloadBytes: cmd.payloadBytes });
      return null;
    case 'probeReceived':
      return receivers.map((r) => r.received.length);
    case 'stopProbe':
      probe?.stop();
      return null;
    case 'loadCounts':
      return { sent: load?.sent ?? 0, received: load?.received ?? 0, seconds: (nowMs() - loadStarted) / 1000 };
    case 'probeResults': {
      // First arrival of each probe packet at any receiver.
      const firstArrival = new Map<number, number>();
      for (const r of receivers) {
        for (const p of r.from(probe?.senderId ?? 0)) {
          const seen = firstArrival.get(p.counter);
          if (seen === undefined || p.receivedAtMs < seen) firstArrival.set(p.counter, p.receivedAtMs);
        }
      }
      return {
        sentAt: Float64Array.from(probe?.sentAt ?? []),
        forwarded: Uint32Array.from(firstArrival.keys()),
        arrivedAt: Float64Array.from(firstArrival.values()),
      };
    }
    case 'close':
      load?.close();
      probe?.close();
      for (const r of receivers) r.close();
      load = null;
      probe = null;
      receivers = [];
      return null;
  }
}

serveThread(handle);
