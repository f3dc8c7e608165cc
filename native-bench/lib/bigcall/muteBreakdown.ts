/**
 * Where the time of a big-call step's mutes went: each acknowledged mute's round trip on the
 * bench clock, split by the gateway's own Server-Timing header (src/api/http/serverTiming.ts)
 * into the gateway's hops and "outside" (round trip − the gateway's total: the bench's HTTP
 * client and its event loop, the kernel both ways, the gateway's event loop before Node hands it
 * the request, and writing the reply). Kept in the committed results so that the next regression
 * of the mute ack tail shows at once on which side it is. Pure.
 */
import { HOPS, type Hop } from '../hops.js';
import { summarize, type Summary } from '../stats.js';
import type { MuteTiming } from './muteCycles.js';

/** The gateway's hops, in order (Server-Timing names), without the derived total/outside. */
export const GATEWAY_HOPS = HOPS.filter((h): h is Exclude<Hop, 'total' | 'outside'> => h !== 'total' && h !== 'outside');

/** One mute, split. */
export interface SplitMute {
  /** Which mute: 'p50', 'p99', 'max' (nearest rank), or '#k' among the slowest. */
  rank: string;
  clientMs: number;
  /** The gateway's total (Node's request event → reply ready); null: no Server-Timing. */
  gatewayMs: number | null;
  /** clientMs − gatewayMs. */
  outsideMs: number | null;
  /** Of the round trip: the bench's mute client thread did not run / collected garbage (null: not recorded). */
  benchStallMs: number | null;
  benchGcMs: number | null;
  /** The gateway's largest hop. */
  largestHop: { hop: string; ms: number } | null;
  hops: Record<string, number> | null;
}

export interface MuteBreakdown {
  /** Acknowledged mutes (not unmutes) and how many carried Server-Timing. */
  mutes: number;
  withServerTiming: number;
  /** Per hop over the mutes with a header: gateway hops, total, outside (p50/p99/max, ms). */
  hops: Record<Hop, Summary>;
  /** The mutes at the p50, p99 and max ranks of the round trip (nearest rank). */
  ranked: SplitMute[];
  /** Mutes whose round trip exceeded `overMs` and where their time went, summed. */
  over: { thresholdMs: number; count: number; gatewayMs: number; outsideMs: number; benchStallMs: number; largestHops: Record<string, number> };
}

/** Nearest-rank index of quantile q in n sorted samples (q = 0.99, n = 100 → the 99th, n = 20 → the 20th). */
export function nearestRank(n: number, q: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
}

export function splitMute(rank: string, t: MuteTiming): SplitMute {
  const total = t.serverTiming?.total;
  const bench = { benchStallMs: t.benchStallMs ?? null, benchGcMs: t.benchGcMs ?? null };
  if (!t.serverTiming || total === undefined) return { rank, clientMs: t.clientMs, gatewayMs: null, outsideMs: null, ...bench, largestHop: null, hops: null };
  let largest: { hop: string; ms: number } | null = null;
  for (const hop of GATEWAY_HOPS) {
    const ms = t.serverTiming[hop];
    if (ms !== undefined && (!largest || ms > largest.ms)) largest = { hop, ms };
  }
  return { rank, clientMs: t.clientMs, gatewayMs: total, outsideMs: t.clientMs - total, ...bench, largestHop: largest, hops: t.serverTiming };
}

/** The breakdown of a step's mutes (unmutes are left out: the target is about mutes); null when none was acknowledged. */
export function muteBreakdown(timings: readonly MuteTiming[], overMs: number): MuteBreakdown | null {
  const mutes = timings.filter((t) => t.op === 'mute').sort((a, b) => a.clientMs - b.clientMs);
  if (mutes.length === 0) return null;
  const timed = mutes.filter((t) => t.serverTiming?.total !== undefined);
  const hops = Object.fromEntries(
    HOPS.map((hop) => [
      hop,
      // A hop the gateway did not report (no media to pause) took no time on that request.
      summarize(timed.map((t) => (hop === 'outside' ? t.clientMs - (t.serverTiming?.total as number) : (t.serverTiming?.[hop] ?? 0)))),
    ]),
  ) as Record<Hop, Summary>;
  const at = (q: number) => mutes[nearestRank(mutes.length, q)] as MuteTiming;
  const ranked = [splitMute('p50', at(0.5)), splitMute('p99', at(0.99)), splitMute('max', at(1))];
  const slow = mutes.filter((t) => t.clientMs > overMs).map((t) => splitMute('', t));
  const largestHops: Record<string, number> = {};
  for (const s of slow) {
    // Which part held each slow mute longest: a gateway hop, the bench's stalled client thread, or the rest of outside.
    const stalled = Math.min(s.benchStallMs ?? 0, s.outsideMs ?? 0);
    const parts: [string, number][] = [
      [s.largestHop?.hop ?? 'gateway', s.largestHop?.ms ?? 0],
      ['bench stalled', stalled],
      ['outside, bench running', (s.outsideMs ?? 0) - stalled],
    ];
    const side = s.outsideMs === null ? 'no Server-Timing' : parts.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    largestHops[side] = (largestHops[side] ?? 0) + 1;
  }
  return {
    mutes: mutes.length,
    withServerTiming: timed.length,
    hops,
    ranked,
    over: {
      thresholdMs: overMs,
      count: slow.length,
      gatewayMs: slow.reduce((sum, s) => sum + (s.gatewayMs ?? 0), 0),
      outsideMs: slow.reduce((sum, s) => sum + (s.outsideMs ?? 0), 0),
      benchStallMs: slow.reduce((sum, s) => sum + (s.benchStallMs ?? 0), 0),
      largestHops,
    },
  };
}

const fmt = (n: number | null | undefined, digits = 2) => (n !== null && n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–');

/** The breakdown's lines for results.md (one step). */
export function breakdownMarkdown(label: string, b: MuteBreakdown, context: string[] = []): string[] {
  const lines: string[] = [];
  lines.push(
    `**${label}**: where the mute ack time went (${b.mutes} mutes, ${b.withServerTiming} with the gateway's Server-Timing; "gateway" = Node's request event → reply ready, "outside" = the client's round trip − gateway: the bench's HTTP client, the kernel and wake-ups both ways, the gateway's event loop before it sees the request, the reply's write; "bench stalled" = the part of the round trip in which the client thread did not run or collected garbage)${context.length ? `; ${context.join('; ')}` : ''}.`,
  );
  lines.push('');
  lines.push(`| mute | ack, ms | gateway, ms | outside, ms | of which bench stalled (GC), ms | largest gateway hop | ${GATEWAY_HOPS.join(' | ')} |`);
  lines.push(`|---|---:|---:|---:|---:|---|${GATEWAY_HOPS.map(() => '---:').join('|')}|`);
  for (const r of b.ranked) {
    lines.push(
      `| ${r.rank} | ${fmt(r.clientMs)} | ${fmt(r.gatewayMs)} | ${fmt(r.outsideMs)} | ${fmt(r.benchStallMs)} (${fmt(r.benchGcMs)}) | ${r.largestHop ? `${r.largestHop.hop} ${fmt(r.largestHop.ms)}` : '–'} | ${GATEWAY_HOPS.map((h) => (r.hops ? fmt(r.hops[h] ?? 0) : '–')).join(' | ')} |`,
    );
  }
  // Each column's own percentile over the mutes: they do not add up (different mutes).
  const perHop = (q: 'p99' | 'max') =>
    `| each column's own ${q} | – | ${fmt(b.hops.total[q])} | ${fmt(b.hops.outside[q])} | | | ${GATEWAY_HOPS.map((h) => fmt(b.hops[h][q])).join(' | ')} |`;
  lines.push(perHop('p99'));
  lines.push(perHop('max'));
  lines.push('');
  const o = b.over;
  if (o.count === 0) lines.push(`No mute took more than ${o.thresholdMs} ms.`);
  else {
    const where = Object.entries(o.largestHops)
      .sort((x, y) => y[1] - x[1])
      .map(([side, n]) => `${side} ${n}`)
      .join(', ');
    lines.push(
      `${o.count} mute(s) took more than ${o.thresholdMs} ms: together ${fmt(o.gatewayMs, 1)} ms inside the gateway and ${fmt(o.outsideMs, 1)} ms outside it (of which the bench's mute client thread stalled ${fmt(o.benchStallMs, 1)} ms); the largest part of each was: ${where}.`,
    );
  }
  lines.push('');
  return lines;
}
