/**
 * Who is who in a big call of P talkers: a few loud speakers, the rest quiet or silent; a sample
 * of them is actually read by the bench (the others receive into sockets it discards), and a few
 * quiet ones are muted and unmuted during the load. Pure: the same P and options give the same plan.
 */

export type TalkerRole = 'loud' | 'quiet' | 'silent';

/** Levels in -dBov (RFC 6464): speech, a quiet room, digital silence. */
export const LEVEL_DBOV: Record<TalkerRole, number> = { loud: 20, quiet: 70, silent: 127 };

export interface PlannedTalker {
  /** Join order, 0-based. */
  index: number;
  /** In every probe payload (never 0); the SFU rewrites the SSRC, not the payload. */
  senderId: number;
  ssrc: number;
  role: TalkerRole;
  /** Slot among the sampled receivers (whose packets the bench reads), or null. */
  sampled: number | null;
  /** Muted and unmuted during the load (always a quiet talker). */
  victim: boolean;
}

export interface PlanOptions {
  loud: number;
  sampledReceivers: number;
  victims: number;
}

/** `count` positions spread evenly over [0, n), distinct (n ≥ count). */
function spread(n: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor(((i + 0.5) * n) / count));
}

/**
 * Loud speakers join first (they are what the call is for); sampled receivers and victims are
 * spread over the rest of the join order, so that in a call spread over several workers they
 * land on different ones. The rest alternate quiet / silent; victims are quiet.
 */
export function planTalkers(talkers: number, opts: PlanOptions): PlannedTalker[] {
  const loud = Math.min(opts.loud, talkers);
  const rest = talkers - loud;
  // A small call still gets mutes: victims take up to half of the non-loud talkers first.
  const victimCount = Math.min(opts.victims, Math.floor(rest / 2));
  const sampledCount = Math.min(opts.sampledReceivers, rest - victimCount);
  const sampledAt = new Map(spread(rest, sampledCount).map((pos, slot) => [loud + pos, slot]));
  // Victims among the non-sampled rest, spread the same way.
  const others = Array.from({ length: rest }, (_, i) => loud + i).filter((i) => !sampledAt.has(i));
  const victimAt = new Set(spread(others.length, victimCount).map((pos) => others[pos] as number));
  return Array.from({ length: talkers }, (_, index) => {
    const victim = victimAt.has(index);
    const role: TalkerRole = index < loud ? 'loud' : victim || (index - loud) % 2 === 0 ? 'quiet' : 'silent';
    return { index, senderId: index + 1, ssrc: 200_000 + index, role, sampled: sampledAt.get(index) ?? null, victim };
  });
}
