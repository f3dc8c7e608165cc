/**
 * The mutes of a big-call step: quiet talkers ("victims") are muted and unmuted in turn while the
 * call is loaded, one operation at a time, each timed on the bench clock. A victim may talk while
 * muted, so that in speakers mode a leak would be forwarded. A mute the gateway answers with an
 * error (e.g. 503 muteNotConfirmed: it tore the media down) is counted as failed and that victim
 * is done; one not answered at all stops the mutes (the gateway is stuck).
 */
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
  /** Sends the mute or unmute; resolves on 200, rejects with MuteRejected otherwise. */
  setMuted(participantId: string, muted: boolean): Promise<void>;
  /** Called right after a mute's 200 (true) and right before the unmute is requested (false). */
  talking?(senderId: number, whileMuted: boolean): Promise<void>;
  progress(message: string): void;
}

export interface MuteCycles {
  windows: (MuteWindow & { senderId: number })[];
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
  const result: MuteCycles = { windows: [], attempted: 0, failed: {}, timedOut: 0, gone: new Set() };
  const timed = async (participantId: string, muted: boolean) => {
    const requestAt = nowMs();
    await withTimeout(opts.setMuted(participantId, muted), opts.timeoutMs);
    return { requestAt, ackAt: nowMs() };
  };
  for (let k = 0; k < opts.pairs; k++) {
    const candidates = opts.victims.filter((v) => !result.gone.has(v.senderId));
    if (candidates.length === 0) break;
    const victim = candidates[k % candidates.length] as Victim;
    await sleep(jitter(120, 220));
    result.attempted++;
    let op = 'mute';
    try {
      const mute = await timed(victim.participantId, true);
      await opts.talking?.(victim.senderId, true);
      await sleep(jitter(120, 220));
      await opts.talking?.(victim.senderId, false);
      op = 'unmute';
      const unmute = await timed(victim.participantId, false);
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
