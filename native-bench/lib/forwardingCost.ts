import type { BenchTarget } from '../targets/target.js';
import { startCpuWindow, type CpuSource } from './procCpu.js';
import { RtpThread } from './RtpThread.js';

export interface ForwardingCostOptions {
  streams: number;
  packetsPerSecond: number;
  payloadBytes: number;
  payloadType: number;
  /** Length of the measured window. */
  seconds: number;
  /** Load flows this long before the window opens (set-up work and start-up bursts are not counted). */
  warmupSeconds: number;
  /** What to measure: the SFU's processes (and the bench's, for reference). */
  cpu: CpuSource[];
  progress: (message: string) => void;
}

export interface ForwardingCostResult {
  streams: number;
  seconds: number;
  /** Percent of one core per source over the window. */
  cpuPercent: Record<string, number>;
  load: { sent: number; received: number; receivedRatePerSecond: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What forwarding alone costs: N background streams in calls of two, no probe, no mutes; the
 * CPU time of each source (from /proc) over a fixed window while the load flows.
 */
export async function runForwardingCost(target: BenchTarget, opts: ForwardingCostOptions): Promise<ForwardingCostResult> {
  const rtp = RtpThread.start();
  try {
    const loadSockets = await rtp.openLoad(Math.max(1, Math.ceil(opts.streams / 100)));
    opts.progress(`${target.name}: forwarding cost, setting up ${opts.streams} streams`);
    const streams = await target.setupLoad(opts.streams, loadSockets, opts.payloadType);
    await rtp.startLoad(streams, opts.packetsPerSecond, opts.payloadBytes);
    await sleep(opts.warmupSeconds * 1000);
    const before = await rtp.loadCounts();
    const window = startCpuWindow(opts.cpu);
    await sleep(opts.seconds * 1000);
    const cpuPercent = window();
    const after = await rtp.loadCounts();
    const received = after.received - before.received;
    const seconds = after.seconds - before.seconds;
    opts.progress(
      `${target.name}: N=${opts.streams}, ${(received / seconds).toFixed(0)} packets/s forwarded, CPU ${Object.entries(cpuPercent)
        .map(([name, pct]) => `${name} ${pct.toFixed(1)} %`)
        .join(', ')}`,
    );
    return { streams: opts.streams, seconds, cpuPercent, load: { sent: after.sent - before.sent, received, receivedRatePerSecond: received / seconds } };
  } finally {
    await rtp.close();
    await target.teardown();
  }
}
