/**
 * The mutes of a big-call step: quiet talkers ("victims") are muted and unmuted in turn while the
 * call is loaded, one operation at a time, each timed on the bench clock. A victim may talk while
 * muted, so that in speakers mode a leak would be forwarded. A mute the gateway answers with an
 * error (e.g. 503 muteNotConfirmed: it tore the media down) is counted as failed and that victim
 * is done; one not answered at all stops the mutes (the gateway is stuck).
 */
import { parseServerTiming } from '../hops.js';
import { MuteRejected } from '../muteClient.js';
import { nowMs } from '../RtpPeer.js';
import type { MuteWindow } from '../probeAnalysis.js';

export interface Victim {
  senderId: number;
  participantId: string;
}

export interface MuteCyclesOptions {
  victims: readonly Victim[];
  pairs: number;
  timeoutMs: number;
  /**
   * Sends the mute or unmute; resolves on 200, rejects with MuteRejected otherwise. It may resolve
   * with that answer's Server-Timing header, or with a MuteAck when the client timed the round
   * trip itself (a client in another thread: then its times are the ack's, not this thread's).
   */
  setMuted(participantId: string, muted: boolean): Promise<MuteAck | string | undefined | void>;
  /** Called right after a mute's 200 (true) and right before the unmute is requested (false). */
  talking?(senderId: number, whileMuted: boolean): Promise<void>;
  progress(message: string): void;
}

/** A 200 as the client that sent the request timed it (bench clock, ms). */
export interface MuteAck {
  requestAt: number;
  ackAt: number;
  serverTiming: string | undefined;
}

/** One acknowledged mute or unmute: the bench's round trip and the gateway's account of it. */
export interface MuteTiming {
  op: 'mute' | 'unmute';
  senderId: number;
  /** When the request was sent (bench clock, ms). */
  requestAt: number;
  /** Request → 200 on the bench clock, ms (what "mute ack" reports). */
  clientMs: number;
  /** Of clientMs: the client's thread stalled (did not run) / collected garbage (see benchStalls); absent: not recorded. */
  benchStallMs?: number;
  benchGcMs?: number;
  /** The 200's Server-Timing durations by hop name, ms (see lib/hops.ts); null: no header. */
  serverTiming: Record<string, number> | null;
}

export interface MuteCycles {
  windows: (MuteWindow & { senderId: number })[];
  /** Every acknowledged operation, in order (the mute of a pair whose unmute failed included). */
  timings: MuteTiming[];
  attempted: number;
  /** By "mute 503", "unmute 503", … */
  failed: Record<string, number>;
  timedOut: number;
  /** Victims whose media a failed operation tore down, or left in an unknown state. */
  gone: Set<number>;
}

class Timeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jitter = (min: number, max: number) => min + Math.random() * (max - min);

export async function runMuteCycles(opts: MuteCyclesOptions): Promise<MuteCycles> {
  const result: MuteCycles = { windows: [], timings: [], attempted: 0, failed: {}, timedOut: 0, gone: new Set() };
  const timed = async (victim: Victim, muted: boolean) => {
    const sentAt = nowMs();
    const answer = await withTimeout(opts.setMuted(victim.participantId, muted), opts.timeoutMs);
    const answeredAt = nowMs();
    const { requestAt, ackAt, serverTiming } = typeof answer === 'object' ? answer : { requestAt: sentAt, ackAt: answeredAt, serverTiming: answer ?? undefined };
    result.timings.push({ op: muted ? 'mute' : 'unmute', senderId: victim.senderId, requestAt, clientMs: ackAt - requestAt, serverTiming: serverTiming ? parseServerTiming(serverTiming) : null });
    return { requestAt, ackAt };
  };
  for (let k = 0; k < opts.pairs; k++) {
    const candidates = opts.victims.filter((v) => !result.gone.has(v.senderId));
    if (candidates.length === 0) break;
    const victim = candidates[k % candidates.length] as Victim;
    await sleep(jitter(120, 220));
    result.attempted++;
    let op = 'mute';
    try {
      const mute = await timed(victim, true);
      await opts.talking?.(victim.senderId, true);
      await sleep(jitter(120, 220));
      await opts.talking?.(victim.senderId, false);
      op = 'unmute';
      const unmute = await timed(victim, false);
      result.windows.push({ senderId: victim.senderId, requestAt: mute.requestAt, ackAt: mute.ackAt, unmuteRequestAt: unmute.requestAt, unmuteAckAt: unmute.ackAt });
    } catch (err) {
      if (!(err instanceof Timeout) && !(err instanceof MuteRejected)) throw err;
      result.gone.add(victim.senderId);
      await opts.talking?.(victim.senderId, false);
      if (err instanceof Timeout) {
        result.timedOut++;
        opts.progress(`${op} not answered within ${opts.timeoutMs} ms: no further mutes`);
        break;
      }
      const key = `${op} ${err.status}`;
      result.failed[key] = (result.failed[key] ?? 0) + 1;
    }
  }
  return result;
}
