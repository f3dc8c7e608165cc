import type { BenchTarget, Timed } from '../targets/target.js';
import { analyzeMute, type MuteResult } from './probeAnalysis.js';
import { RtpThread } from './RtpThread.js';

export interface MuteLatencyOptions {
  streams: number;
  mutes: number;
  probeIntervalMs: number;
  packetsPerSecond: number;
  payloadBytes: number;
  payloadType: number;
  /** Called right after each mute and unmute is acknowledged (fan-out measurement hooks in here). */
  onAck?: (ack: Timed) => void;
  /** Called once the probe call exists (e.g. to attach WebSocket subscribers). */
  onProbeReady?: () => Promise<void>;
  /** Runs while the load still flows (throughput ramp). */
  whileLoaded?: () => Promise<void>;
  progress: (message: string) => void;
}

export interface MuteLatencyRun {
  results: MuteResult[];
  probe: { sent: number; forwarded: number };
  load: { streams: number; sent: number; received: number; seconds: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jitter = (min: number, max: number) => min + Math.random() * (max - min);

/**
 * N background streams flow; a probe sends one packet per `probeIntervalMs` into its own call
 * with two receivers; the probe is muted and unmuted `mutes` times. Every probe packet's send
 * time is known, and the receivers report which arrived, which bounds each enforcement. All
 * packets are sent and received in the RTP thread; this thread only times the API calls.
 */
export async function runMuteLatency(target: BenchTarget, opts: MuteLatencyOptions): Promise<MuteLatencyRun> {
  const rtp = RtpThread.start();
  try {
    const loadSockets = await rtp.openLoad(Math.max(1, Math.ceil(opts.streams / 100)));
    const { probe, receivers } = await rtp.openProbe(2);
    opts.progress(`${target.name}: setting up ${opts.streams} background streams`);
    const streams = await target.setupLoad(opts.streams, loadSockets, opts.payloadType);
    await rtp.startLoad(streams, opts.packetsPerSecond, opts.payloadBytes);

    // 1000: what a Janus remote publisher expects on its first stream (it demultiplexes by SSRC,
    // 1000 + 10 × mindex); mediasoup takes any SSRC. The probe is recognized by its payload anyway.
    const probeSsrc = 1000;
    const sendTo = await target.setupProbe(probe, receivers, probeSsrc, opts.payloadType);
    await opts.onProbeReady?.();
    await rtp.startProbe(sendTo, probeSsrc, opts.payloadType, opts.probeIntervalMs, opts.payloadBytes);
    await sleep(500);
    if ((await rtp.probeReceived()).some((n) => n === 0)) throw new Error(`${target.name}: the probe is not being forwarded`);

    const windows = [];
    for (let k = 0; k < opts.mutes; k++) {
      await sleep(jitter(120, 220));
      const mute = await target.muteProbe();
      opts.onAck?.(mute);
      await sleep(jitter(120, 220));
      const unmute = await target.unmuteProbe();
      opts.onAck?.(unmute);
      windows.push({ requestAt: mute.requestAt, ackAt: mute.ackAt, unmuteRequestAt: unmute.requestAt, unmuteAckAt: unmute.ackAt });
      if ((k + 1) % 10 === 0 || k + 1 === opts.mutes) opts.progress(`${target.name}: N=${opts.streams} mute/unmute ${k + 1}/${opts.mutes}`);
    }
    await sleep(300); // let the last forwarded packets land
    await rtp.stopProbe();
    // Load counts cover the latency phase only: the throughput phase mutes load participants.
    const loadCounts = await rtp.loadCounts();
    await opts.whileLoaded?.();

    const { sentAt, forwarded, arrivedAt } = await rtp.probeResults();
    const sent = Array.from(sentAt);
    const arrivals = new Map<number, number>();
    forwarded.forEach((counter, i) => arrivals.set(counter, arrivedAt[i] as number));
    return {
      results: windows.map((w) => analyzeMute(sent, arrivals, w)),
      probe: { sent: sent.length, forwarded: arrivals.size },
      load: { streams: streams.length, ...loadCounts },
    };
  } finally {
    await rtp.close();
    await target.teardown();
  }
}
