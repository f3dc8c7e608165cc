/** What one step of the big-call profile (one P, one forwarding mode) measured. */
import type { MuteResult } from '../probeAnalysis.js';
import type { Summary } from '../stats.js';
import type { Forwarding } from './callClient.js';
import type { GatewayLoopWindow } from './gatewayLoop.js';
import type { MuteBreakdown } from './muteBreakdown.js';
import type { MuteTiming } from './muteCycles.js';

export interface Refusal {
  /** Join order of the refused participant. */
  index: number;
  /** Request → 503, ms. */
  ms: number;
  /** Seconds since the first join was sent. */
  atSeconds: number;
  code: string;
}

export interface StepResult {
  talkers: number;
  forwarding: Forwarding;
  /** The call's forwarding as the gateway reported it on creation (null: not reported). */
  appliedForwarding: unknown;
  joins: {
    placed: number;
    refused: number;
    timedOut: number;
    /** Not tried: the joins after the first one that timed out. */
    notAttempted: number;
    placedMs: Summary;
    refusals: Refusal[];
    /** The slowest answer to any join, placed or refused (a timeout counts as its limit). */
    maxAnswerMs: number;
  };
  /** Sampled receivers that joined (of those planned). */
  sampledReceivers: { joined: number; planned: number };
  steadySeconds: number;
  delivery: {
    expectedPackets: number;
    receivedPackets: number;
    ratio: number;
    worstReceiverRatio: number;
    /** Packets of talkers that should not be forwarded (speakers mode: quiet and silent) that arrived. */
    unexpectedPackets: number;
  };
  oneWayMs: Summary;
  /** % of one core over the steady window. */
  cpu: { gateway: number; workers: { pid: number; percent: number }[]; bench: number };
  mutes: {
    attempted: number;
    acked: number;
    /** Answered, but not 200 (e.g. 503 muteNotConfirmed), by "status code". */
    failed: Record<string, number>;
    timedOut: number;
    ackMs: Summary;
    unmuteAckMs: Summary;
    leakAfterAck: number;
    results: MuteResult[];
    /** Victim packets that reached a sampled receiver at all (shows whether the leak check had anything to catch). */
    victimPacketsForwarded: number;
    /**
     * After the window an unmuted victim spoke louder than everyone: were its packets forwarded?
     * false = a muted victim's packets could not have been either, so leak 0 proves nothing; null = no victim.
     */
    leakCheckArmed: boolean | null;
    /** Every acknowledged mute and unmute with the gateway's Server-Timing (absent in results of older benches). */
    timings?: MuteTiming[];
    /** Where the mutes' time went, inside the gateway (per hop) and outside it (see muteBreakdown). */
    breakdown?: MuteBreakdown | null;
  };
  /**
   * The event loops a mute passes through, over the steady window (the mutes included): the
   * gateway's (its /metrics; null: not readable), and the bench's mute client thread, which sends
   * and times the mutes: its nice value (null: the process's), its stalls while a mute was in
   * flight (> STALL_MS without running, see benchStalls) and its GC pauses, how many and the
   * longest (ms).
   */
  loops?: { gateway: GatewayLoopWindow | null; muteClient: { nice: number | null; stalls: number; stallMaxMs: number; gcPauses: number; gcMaxMs: number } };
  /** Packets the gateway sent to the unsampled receivers' sockets per second (kernel drop counter: a lower bound). */
  unsampledPacketsPerSecond: number;
  bench: { sent: number; skipped: number; datagramsRead: number; discardSocketsRead: boolean };
  /** Why this step clearly fails (the mode stops growing P), or null. */
  failed: string | null;
  /** The step could not finish (e.g. the gateway died). */
  error?: string;
}
