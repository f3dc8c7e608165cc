import { summarize, type Summary } from './stats.js';

/**
 * Where a mute's time goes, hop by hop, from the gateway's own `Server-Timing` header (see
 * src/api/http/serverTiming.ts), plus what the client saw around it. The hops, in order:
 * route (Node's request event → fastify's route handler), auth (onRequest hooks: token), parse
 * (body, schema, preValidation), command (principal, policy, operation record), queue (identity
 * queue), worker (media worker round trip), apply (state, roster and metrics events), resume
 * (back to the handler), reply (serialization, onSend hooks); total is their sum (Node's request
 * event → reply ready). "outside" is the client's request → response time minus that total:
 * the client, the kernel and process wake-ups both ways, Node's HTTP parsing of the request
 * and the response write.
 */
export const HOPS = ['route', 'auth', 'parse', 'command', 'queue', 'worker', 'apply', 'resume', 'reply', 'total', 'outside'] as const;
export type Hop = (typeof HOPS)[number];

export type HopSummary = Record<Hop, Summary> & { samples: number };

/** `name;dur=1.23, other;desc="x";dur=4` → { name: 1.23, other: 4 } (durations in ms). */
export function parseServerTiming(header: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const metric of header.split(',')) {
    const [name, ...params] = metric.trim().split(';');
    if (!name) continue;
    for (const param of params) {
      const m = /^\s*dur\s*=\s*"?([0-9.eE+-]+)"?\s*$/.exec(param);
      if (m) out[name.trim()] = Number(m[1]);
    }
  }
  return out;
}

/** Collects one sample per acknowledged mute/unmute: its Server-Timing header and the client's round trip (ms). */
export class HopRecorder {
  private readonly samples: Record<Hop, number[]> = Object.fromEntries(HOPS.map((h) => [h, []])) as unknown as Record<Hop, number[]>;
  private count = 0;

  /** `header` undefined (no Server-Timing: an older gateway, or not HTTP): the sample is skipped. */
  record(header: string | undefined, clientMs: number): void {
    if (!header) return;
    const timing = parseServerTiming(header);
    if (timing.total === undefined) return;
    this.count++;
    for (const hop of HOPS) {
      // A hop the gateway did not report (no media to pause) took no time on this request.
      const value = hop === 'outside' ? clientMs - timing.total : (timing[hop] ?? 0);
      this.samples[hop].push(value);
    }
  }

  get size(): number {
    return this.count;
  }

  /** p50/p99/… per hop, and forgets the samples (one summary per run). */
  take(): HopSummary | undefined {
    if (this.count === 0) return undefined;
    const summary = Object.fromEntries(HOPS.map((h) => [h, summarize(this.samples[h])])) as Record<Hop, Summary>;
    for (const hop of HOPS) this.samples[hop].length = 0;
    const samples = this.count;
    this.count = 0;
    return { ...summary, samples };
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '–');

/**
 * The hop table for results.md: one row per hop, one column per run (e.g. "N = 100"), each
 * cell p50 / p99 in ms. Per-hop percentiles do not add up to the total's: each is its own
 * distribution.
 */
export function hopTable(runs: { label: string; hops: HopSummary }[]): string[] {
  if (runs.length === 0) return [];
  const lines = [
    `Where a mute's time goes (ours, HTTP; from each 200's Server-Timing header), ms p50 / p99, ${runs.map((r) => `${r.label}: ${r.hops.samples} requests`).join('; ')}:`,
    '',
    `| hop | what | ${runs.map((r) => r.label).join(' | ')} |`,
    `|---|---|${runs.map(() => '---:').join('|')}|`,
  ];
  const what: Record<Hop, string> = {
    route: "Node's request event → fastify route handler",
    auth: 'onRequest hooks: bearer token verified',
    parse: 'body read and parsed, schema, preValidation',
    command: 'principal, policy, operation record',
    queue: "wait in the participant's queue",
    worker: 'media worker round trip (pause/resume confirmed)',
    apply: 'state, roster and metrics events',
    resume: 'back to the route handler',
    reply: 'serialization, onSend hooks',
    total: "gateway: Node's request event → reply ready",
    outside: 'client round trip minus total: client, kernel, wake-ups, HTTP parse, write',
  };
  for (const hop of HOPS) lines.push(`| ${hop} | ${what[hop]} | ${runs.map((r) => `${fmt(r.hops[hop].p50)} / ${fmt(r.hops[hop].p99)}`).join(' | ')} |`);
  return lines;
}
