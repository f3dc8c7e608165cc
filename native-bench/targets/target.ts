import type { LoadStream } from '../lib/LoadGenerator.js';
import type { Address } from '../lib/RtpPeer.js';

/** When a request left and when its acknowledgement came back (ms, bench clock). */
export interface Timed {
  requestAt: number;
  ackAt: number;
}

/** What the bench measures: our gateway over its API, mediasoup called directly, or Janus (VideoRoom over its HTTP API). */
export interface BenchTarget {
  readonly name: 'ours' | 'ours-ws' | 'raw' | 'janus';
  /**
   * N background streams in calls of two: each participant sends one stream and receives the
   * other's. Transports are connected to the load generator's sockets.
   */
  setupLoad(streams: number, loadSockets: Address[], payloadType: number): Promise<LoadStream[]>;
  /** The probe's call: the probe sender plus receivers; returns where the probe sends. */
  setupProbe(probe: Address, receivers: Address[], ssrc: number, payloadType: number): Promise<Address>;
  muteProbe(): Promise<Timed>;
  unmuteProbe(): Promise<Timed>;
  /** Mute or unmute load participant i (throughput runs); throws on failure. */
  setLoadMuted(i: number, muted: boolean): Promise<void>;
  /** Removes everything setupLoad/setupProbe created. */
  teardown(): Promise<void>;
  close(): Promise<void>;
}
