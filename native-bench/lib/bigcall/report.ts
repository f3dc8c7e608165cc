/** results.md of the big-call profile: one table per forwarding mode, then issue 13's targets. */
import type { Forwarding } from './callClient.js';
import { breakdownMarkdown } from './muteBreakdown.js';
import type { StepResult } from './stepResult.js';
import { targets, whyNotSupported } from './verdict.js';

export interface StepError {
  talkers: number;
  forwarding: Forwarding;
  error: string;
}

export interface BigCallReport {
  command: string;
  machine: { cpuModel: string; cpuCount: number; memoryBytes: number; node: string; mediasoup: string };
  parameters: Record<string, unknown>;
  steps: StepResult[];
  errors: StepError[];
  durationSeconds: number;
}

const fmt = (n: number | undefined, digits = 1) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–');
const pct = (r: number) => (Number.isFinite(r) ? `${(100 * r).toFixed(r >= 0.9995 || r < 0.1 ? 1 : 2)} %` : '–');

export function describeForwarding(f: Forwarding): string {
  return f.mode === 'all' ? 'all (everyone hears everyone)' : `speakers (the ${f.maxSpeakers} loudest above -${f.silenceDbov} dBov)`;
}

function modeTable(steps: StepResult[], errors: StepError[], lines: string[]): void {
  const first = steps[0]?.forwarding ?? errors[0]?.forwarding;
  if (!first) return;
  lines.push(`### Forwarding: ${describeForwarding(first)}`);
  lines.push('');
  lines.push(
    '| P talkers | joined / refused / timed out | join p50 / p99 / max, ms | 503 answer max, ms | delivery (worst receiver) | one-way p50 / p99, ms | not-to-forward pkts arrived | worker CPU, % of a core | gateway CPU | bench CPU | mute ack p50 / p99, ms | mutes ok / failed / timed out | leak after ack | pkt/s to unsampled | verdict |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const s of [...steps].sort((a, b) => a.talkers - b.talkers)) {
    const failed = Object.values(s.mutes.failed).reduce((a, b) => a + b, 0);
    const refusedMax = s.joins.refusals.length ? fmt(Math.max(...s.joins.refusals.map((r) => r.ms)), 0) : '–';
    const why = whyNotSupported(s);
    const verdict = s.failed ? `fails: ${s.failed}` : why.length === 0 ? 'supported' : `not supported: ${why.join(', ')}`;
    lines.push(
      `| ${s.talkers} | ${s.joins.placed} / ${s.joins.refused} / ${s.joins.timedOut}${s.joins.notAttempted ? ` (+${s.joins.notAttempted} not tried)` : ''} | ${fmt(s.joins.placedMs.p50, 0)} / ${fmt(s.joins.placedMs.p99, 0)} / ${fmt(s.joins.placedMs.max, 0)} | ${refusedMax} | ${pct(s.delivery.ratio)} (${pct(s.delivery.worstReceiverRatio)}) | ${fmt(s.oneWayMs.p50, 2)} / ${fmt(s.oneWayMs.p99, 2)} | ${s.delivery.unexpectedPackets} | ${s.cpu.workers.map((w) => fmt(w.percent, 0)).join(' + ') || '–'} | ${fmt(s.cpu.gateway, 0)} % | ${fmt(s.cpu.bench, 0)} % | ${fmt(s.mutes.ackMs.p50, 2)} / ${fmt(s.mutes.ackMs.p99, 2)} | ${s.mutes.acked} / ${failed} / ${s.mutes.timedOut} | ${s.mutes.leakAfterAck}${s.mutes.leakCheckArmed === false ? ' (check not armed)' : ''} | ${fmt(s.unsampledPacketsPerSecond, 0)} | ${verdict} |`,
    );
  }
  for (const e of errors) lines.push(`| ${e.talkers} | step did not finish: ${e.error.replaceAll('|', '\\|').slice(0, 300)} |||||||||||||| fails |`);
  lines.push('');
  const reported = steps.find((s) => s.appliedForwarding !== null)?.appliedForwarding;
  lines.push(`The gateway reported the call's forwarding as ${reported === undefined ? 'nothing (it does not say, and may have ignored the request)' : `\`${JSON.stringify(reported)}\``}.`);
  lines.push('');
  for (const s of [...steps].sort((a, b) => a.talkers - b.talkers)) {
    if (s.mutes.breakdown) lines.push(...breakdownMarkdown(`${s.forwarding.mode} P = ${s.talkers}`, s.mutes.breakdown, loopContext(s)));
  }
}

/** What the event loops a mute passes through did over the window (see StepResult.loops). */
export function loopContext(s: StepResult): string[] {
  const l = s.loops;
  if (!l) return [];
  const c = l.muteClient;
  const out = [`bench mute client thread (${c.nice === null ? "the bench process's priority" : `nice ${c.nice}`}): ${c.stalls} stalls > 2 ms while a mute was in flight (longest ${fmt(c.stallMaxMs, 2)} ms), ${c.gcPauses} GC pauses (longest ${fmt(c.gcMaxMs, 2)} ms)`];
  const g = l.gateway;
  if (g) out.push(`gateway loop delay p99 ${fmt(g.lagP99Ms, 2)} / max ${fmt(g.lagMaxMs, 2)} ms, ${g.gcPauses} GC pauses (${g.gcOver1ms} > 1 ms, ${g.gcOver10ms} > 10 ms, ${fmt(g.gcMs, 1)} ms in all)`);
  return out;
}

export function bigCallMarkdown(report: BigCallReport): string {
  const lines: string[] = [];
  const m = report.machine;
  const p = report.parameters;
  lines.push(`Machine: ${m.cpuModel} × ${m.cpuCount}, ${Math.round(m.memoryBytes / 2 ** 30)} GiB, Node ${m.node}, mediasoup ${m.mediasoup}. Command: \`${report.command}\` (${fmt(report.durationSeconds / 60, 1)} min).`);
  lines.push('');
  lines.push(
    `One call of P plain-RTP talkers (${p.packetsPerSecond} packets/s each, ${p.payloadBytes}-byte payloads, ssrc-audio-level extension id ${p.audioLevelExtensionId}${p.audioLevel ? '' : ', id not announced to the gateway'}): ${p.loud} loud (-20 dBov), the rest alternately quiet (-70 dBov) or silent (127); everyone also receives. ${p.sampledReceivers} receivers spread over the join order are read by the bench; the others receive into sockets that never read (their kernel drop counter gives "pkt/s to unsampled", a lower bound). Gateway with ${p.workers} worker(s), fresh for every step${Array.isArray(p.gatewayNodeArgs) && p.gatewayNodeArgs.length ? ` (node started with \`${p.gatewayNodeArgs.join(' ')}\`)` : ''}; joins one at a time while the joined talk. Steady window ${p.steadySeconds} s after ${p.warmupSeconds} s: ${p.mutes} mute/unmute pairs of ${p.victims} quiet talkers${p.talkWhileMuted ? ', who talk (-20 dBov) while muted' : ''}.`,
  );
  lines.push('');
  lines.push(
    'Delivery = packets that arrived at the sampled receivers ÷ packets that should have reached them (all mode: every talker\'s; speakers mode: the loud talkers\'), sent in the window; the muted talkers are left out and checked per mute instead. One-way = arrival − send time carried in the payload, same clock. "Not-to-forward pkts arrived": speakers mode only, packets of quiet/silent talkers that reached a sampled receiver (should be 0). CPU from /proc over the window: each mediasoup worker (the gateway\'s child processes), the gateway process, the bench process (all its threads). Leak after ack: packets a muted talker sent after the 200 that reached anyone sampled before the unmute was requested; must be 0. After the window one unmuted victim speaks louder than everyone for 1.5 s: if it is not heard, the leak check could not have caught anything and the cell says "check not armed".',
  );
  lines.push('');
  for (const mode of ['all', 'speakers'] as const) {
    modeTable(
      report.steps.filter((s) => s.forwarding.mode === mode),
      report.errors.filter((e) => e.forwarding.mode === mode),
      lines,
    );
  }
  lines.push('Issue 13 targets (one run on a shared 2-core machine, so indicative):');
  lines.push('');
  lines.push('| target | measured | wanted | met |');
  lines.push('|---|---:|---:|---|');
  for (const t of targets(report.steps)) lines.push(`| ${t.target} | ${t.measured} | ${t.wanted} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} |`);
  const refusals = report.steps.flatMap((s) => s.joins.refusals.map((r) => ({ ...r, step: `${s.forwarding.mode} P=${s.talkers}` })));
  if (refusals.length) {
    lines.push('');
    lines.push(`Refused joins (${refusals.length}${refusals.length > 20 ? ', the first 20' : ''}): ${refusals.slice(0, 20).map((r) => `${r.step} #${r.index + 1} at ${fmt(r.atSeconds, 1)} s (${fmt(r.ms, 0)} ms, ${r.code})`).join('; ')}.`);
  }
  return lines.join('\n') + '\n';
}
