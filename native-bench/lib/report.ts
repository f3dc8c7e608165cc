/** What one bench run found, and how results.md shows it. */
import type { BenchTarget } from '../targets/target.js';
import type { Encoding } from './FanoutSubscribers.js';
import type { ForwardingCostResult } from './forwardingCost.js';
import { ratio, type Summary } from './stats.js';
import type { ThroughputResult } from './throughput.js';

export type TargetName = BenchTarget['name'];

export const METRICS = ['apiLatencyMs', 'enforcementLowMs', 'enforcementHighMs', 'unmuteApiLatencyMs', 'unmuteFirstForwardedMs', 'leakAfterAck', 'forwardedAcrossUnmute'] as const;
export type Metric = (typeof METRICS)[number];
/** Packet counts, not latencies: shown as totals, never as ratios. */
export const COUNTS: readonly Metric[] = ['leakAfterAck', 'forwardedAcrossUnmute'];
/** Metrics with a meaningful ratio to raw (a positive latency; the lower bound can be negative). */
export const RATIO_METRICS: readonly Metric[] = METRICS.filter((m) => !COUNTS.includes(m) && m !== 'enforcementLowMs');

/** CPU sources, by role, measured for every target (see main.ts cpuSources). */
export const CPU = {
  /** The SFU's Node side: the gateway process (ours), the bench's main thread (raw: mediasoup's Node API runs there). */
  sfuNode: 'sfuNode',
  /** The SFU's mediasoup worker process(es). */
  sfuWorkers: 'sfuWorkers',
  /** The bench's main thread: the client that sends the mutes (and, for raw, also the SFU's Node side). */
  benchMainThread: 'benchMainThread',
  /** The whole bench process: also the RTP thread that sends and receives every packet. */
  benchProcess: 'benchProcess',
} as const;

export interface Run {
  target: TargetName;
  streams: number;
  samples: Record<Metric, number[]>;
  summary: Record<Metric, Summary>;
  probe: { sent: number; forwarded: number };
  load: { streams: number; sent: number; received: number; seconds: number; receivedRatePerSecond: number };
  throughput?: ThroughputResult;
  fanout?: FanoutResult;
}

export interface FanoutResult {
  subscribers: number;
  streams: number;
  /** Bench threads the subscribers were spread over. */
  threads: number;
  /** The gateway's own time to write one update to all S subscribers (mean, from its /metrics). */
  gatewayWriteMeanMs: number;
  samples: Record<Encoding, number[]>;
  summary: Record<Encoding, Summary>;
  bytesPerUpdate: Record<Encoding, number>;
  missing: number;
}

export interface ForwardingCost extends ForwardingCostResult {
  target: TargetName;
  /** sfuNode + sfuWorkers: what the SFU costs, in percent of one core. */
  sfuPercent: number;
}

export interface Report {
  runs: Run[];
  fanout: FanoutResult[];
  forwardingCost: ForwardingCost[];
  machine: Record<string, unknown>;
  command: string;
  metricsCheck: unknown;
  throughputP99Ms: number;
}

const LABEL: Partial<Record<TargetName, string>> = { ours: 'ours (HTTP)', 'ours-ws': 'ours (WebSocket)', raw: 'raw', janus: 'Janus (VideoRoom, HTTP)' };
export const targetLabel = (t: TargetName): string => LABEL[t] ?? t;

const fmt = (n: number | undefined, digits = 2) => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Targets in the order they were measured, raw last (every other one is compared with it). */
export function targetsIn(runs: { target: TargetName }[]): TargetName[] {
  const names = [...new Set(runs.map((r) => r.target))];
  return [...names.filter((n) => n !== 'raw'), ...names.filter((n) => n === 'raw')];
}

/** Per N and per target other than raw: target ÷ raw at the p50 and the p99 of every latency metric. */
export function ratiosToRaw(runs: Run[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const n of [...new Set(runs.map((r) => r.streams))]) {
    const raw = runs.find((r) => r.target === 'raw' && r.streams === n);
    for (const run of runs.filter((r) => r.target !== 'raw' && r.streams === n)) {
      out.push(
        Object.fromEntries([
          ['streams', n],
          ['target', run.target],
          ...RATIO_METRICS.map((m) => [m, { p50: ratio(run.summary[m].p50, raw?.summary[m].p50 ?? NaN), p99: ratio(run.summary[m].p99, raw?.summary[m].p99 ?? NaN) }]),
          ['sustainedOpsPerSecond', ratio(run.throughput?.sustainedOpsPerSecond ?? NaN, raw?.throughput?.sustainedOpsPerSecond ?? NaN)],
        ]),
      );
    }
  }
  return out;
}

const METRIC_LABEL: Record<Metric, string> = {
  apiLatencyMs: 'mute: request → ack',
  enforcementLowMs: 'mute: last forwarded packet sent at',
  enforcementHighMs: 'mute: first dropped packet sent at',
  unmuteApiLatencyMs: 'unmute: request → ack',
  unmuteFirstForwardedMs: 'unmute: first forwarded packet sent at',
  leakAfterAck: 'leak after ack (packets)',
  forwardedAcrossUnmute: 'sent while muted, arrived after the unmute request (packets, not a leak)',
};

function latencyTable(runs: Run[], lines: string[]): void {
  const targets = targetsIn(runs);
  const compared = targets.filter((t) => t !== 'raw');
  lines.push('Mute latency, milliseconds (p50 / p99); ratios = target ÷ raw, at the p50 / the p99:');
  lines.push('');
  lines.push(`| N streams | metric | ${targets.map((t) => `${targetLabel(t)} p50 / p99`).join(' | ')} | ${compared.map((t) => `${targetLabel(t)} ÷ raw`).join(' | ')} |`);
  lines.push(`|---:|---|${targets.map(() => '---:').join('|')}|${compared.map(() => '---:').join('|')}|`);
  for (const n of [...new Set(runs.map((r) => r.streams))]) {
    const byTarget = new Map(targets.map((t) => [t, runs.find((r) => r.target === t && r.streams === n)]));
    const raw = byTarget.get('raw');
    for (const m of METRICS) {
      const count = COUNTS.includes(m);
      const cell = (run: Run | undefined) =>
        count ? (run ? `${run.samples[m].reduce((a, b) => a + b, 0)} in total` : '–') : `${fmt(run?.summary[m].p50)} / ${fmt(run?.summary[m].p99)}`;
      const ratioCell = (run: Run | undefined) =>
        RATIO_METRICS.includes(m) ? `${fmt(ratio(run?.summary[m].p50 ?? NaN, raw?.summary[m].p50 ?? NaN))} / ${fmt(ratio(run?.summary[m].p99 ?? NaN, raw?.summary[m].p99 ?? NaN))}` : '';
      lines.push(`| ${n} | ${METRIC_LABEL[m]} | ${targets.map((t) => cell(byTarget.get(t))).join(' | ')} | ${compared.map((t) => ratioCell(byTarget.get(t))).join(' | ')} |`);
    }
  }
}

function throughputTable(runs: Run[], p99LimitMs: number, lines: string[]): void {
  const withRamp = runs.filter((r) => r.throughput);
  if (withRamp.length === 0) return;
  lines.push('');
  lines.push(
    `Sustained mute/unmute rate: the highest step of an open-loop ramp (operations spread over all N load participants, latency counted from when each fell due) with no errors, nobody left behind (every operation answered within ${p99LimitMs} ms of the step's end), ≥ 95 % of the rate achieved and p99 ≤ ${p99LimitMs} ms (a step that fails is run once more before the ramp stops). CPU in % of one core at that step and at the last one; "client" is the bench's main thread, which for raw is also mediasoup's Node side:`,
  );
  lines.push('');
  lines.push('| N streams | target | sustained ops/s | ÷ raw | p50 / p99 at it, ms | ramp stopped at | client CPU (at it / last step) | SFU CPU, Node + workers (at it / last step) |');
  lines.push('|---:|---|---:|---:|---:|---|---:|---:|');
  for (const n of [...new Set(withRamp.map((r) => r.streams))]) {
    const raw = withRamp.find((r) => r.target === 'raw' && r.streams === n)?.throughput;
    for (const t of targetsIn(withRamp.filter((r) => r.streams === n))) {
      const tp = withRamp.find((r) => r.target === t && r.streams === n)?.throughput as ThroughputResult;
      // The sustained step: the last one at that rate (a rate that failed once was run again).
      const at = tp.steps.findLast((s) => s.targetRate === tp.sustainedOpsPerSecond);
      const last = tp.steps[tp.steps.length - 1];
      const client = (step: typeof at) => `${fmt(step?.cpuPercent[CPU.benchMainThread], 0)} %`;
      const sfu = (step: typeof at) => `${fmt((step?.cpuPercent[CPU.sfuNode] ?? NaN) + (step?.cpuPercent[CPU.sfuWorkers] ?? NaN), 0)} %`;
      lines.push(
        `| ${n} | ${targetLabel(t)} | ${tp.sustainedOpsPerSecond} | ${t === 'raw' ? '' : fmt(ratio(tp.sustainedOpsPerSecond, raw?.sustainedOpsPerSecond ?? NaN))} | ${fmt(at?.p50Ms)} / ${fmt(at?.p99Ms)} | ${tp.stoppedBecause} | ${client(at)} / ${client(last)} | ${sfu(at)} / ${sfu(last)} |`,
      );
    }
  }
}

function forwardingCostTable(costs: ForwardingCost[], lines: string[]): void {
  if (costs.length === 0) return;
  lines.push('');
  lines.push(
    'Forwarding cost: N streams, no mutes, CPU in % of one core over a fixed window, from /proc/<pid>/stat (utime + stime). SFU Node side = the gateway process (ours) or the bench\'s main thread (raw, where mediasoup\'s Node API runs); the bench process also sends and receives every packet (the same for every target):',
  );
  lines.push('');
  lines.push('| target | N streams | window, s | packets/s forwarded | SFU Node side | SFU worker(s) | SFU total | SFU total − raw | bench process |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of costs) {
    const raw = costs.find((r) => r.target === 'raw' && r.streams === c.streams);
    lines.push(
      `| ${targetLabel(c.target)} | ${c.streams} | ${fmt(c.seconds, 1)} | ${fmt(c.load.receivedRatePerSecond, 0)} | ${fmt(c.cpuPercent[CPU.sfuNode], 1)} % | ${fmt(c.cpuPercent[CPU.sfuWorkers], 1)} % | ${fmt(c.sfuPercent, 1)} % | ${c.target === 'raw' || !raw ? '' : `${fmt(c.sfuPercent - raw.sfuPercent, 1)} %`} | ${fmt(c.cpuPercent[CPU.benchProcess], 1)} % |`,
    );
  }
}

function fanoutTable(fanout: FanoutResult[], lines: string[]): void {
  if (fanout.length === 0) return;
  lines.push('');
  lines.push(
    'Roster fan-out (ours): update arrival at each WebSocket subscriber (when its socket was read, in bench threads) minus the HTTP 200 arrival, ms (negative: the update came first), and bytes per update; "gateway write" is the gateway\'s own time to write one update to all S subscribers (mean, from mutegate_roster_fanout_seconds):',
  );
  lines.push('');
  lines.push('| S subscribers | N streams | bench threads | JSON p50 / p99 / max | protobuf p50 / p99 / max | gateway write, ms | bytes JSON / protobuf | missing |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const f of fanout) {
    lines.push(
      `| ${f.subscribers} | ${f.streams} | ${f.threads} | ${fmt(f.summary.json.p50)} / ${fmt(f.summary.json.p99)} / ${fmt(f.summary.json.max)} | ${fmt(f.summary.proto.p50)} / ${fmt(f.summary.proto.p99)} / ${fmt(f.summary.proto.max)} | ${fmt(f.gatewayWriteMeanMs)} | ${fmt(f.bytesPerUpdate.json, 0)} / ${fmt(f.bytesPerUpdate.proto, 0)} | ${f.missing} |`,
    );
  }
}

/**
 * The measurable goals of issue 10 that this run can check, one row each (a row is left out when
 * the run did not measure it). Indicative: one run, a shared machine.
 */
function goalsTable(report: Report, lines: string[]): void {
  const rows: string[] = [];
  const row = (goal: string, measured: string, wanted: string, met: boolean) => rows.push(`| ${goal} | ${measured} | ${wanted} | ${met ? 'yes' : '**no**'} |`);
  for (const n of [...new Set(report.runs.map((r) => r.streams))]) {
    const ws = report.runs.find((r) => r.target === 'ours-ws' && r.streams === n);
    const raw = report.runs.find((r) => r.target === 'raw' && r.streams === n);
    if (!ws || !raw) continue;
    const above = ws.summary.apiLatencyMs.p50 - raw.summary.apiLatencyMs.p50;
    row(`WebSocket mute ack p50 above raw, N = ${n}`, `${above >= 0 ? '+' : ''}${fmt(above)} ms`, '≤ +0.50 ms', above <= 0.5);
  }
  for (const run of report.runs.filter((r) => r.throughput && r.target !== 'raw')) {
    const raw = report.runs.find((r) => r.target === 'raw' && r.streams === run.streams)?.throughput;
    const ops = run.throughput?.sustainedOpsPerSecond ?? 0;
    const share = ratio(ops, raw?.sustainedOpsPerSecond ?? NaN);
    row(`sustained ops/s (p99 ≤ ${report.throughputP99Ms} ms), ${targetLabel(run.target)}, N = ${run.streams}`, `${ops} (${fmt(share)} × raw)`, '≥ 5000 and ≥ 0.5 × raw', ops >= 5000 && share >= 0.5);
  }
  const widest = report.fanout.reduce<FanoutResult | undefined>((a, f) => (!a || f.subscribers > a.subscribers ? f : a), undefined);
  if (widest) {
    const p99 = Math.max(widest.summary.json.p99, widest.summary.proto.p99);
    row(`roster fan-out p99 after the 200, S = ${widest.subscribers}`, `${fmt(p99)} ms`, '≤ 5 ms', p99 <= 5);
  }
  const oursCost = report.forwardingCost.find((c) => c.target === 'ours');
  const rawCost = report.forwardingCost.find((c) => c.target === 'raw' && c.streams === oursCost?.streams);
  if (oursCost && rawCost) {
    const above = oursCost.sfuPercent - rawCost.sfuPercent;
    row(`gateway CPU above raw, N = ${oursCost.streams}, no mutes`, `${above >= 0 ? '+' : ''}${fmt(above, 1)} % of a core`, '≤ +5 %', above <= 5);
  }
  const leaks = report.runs.filter((r) => r.target.startsWith('ours')).reduce((sum, r) => sum + r.samples.leakAfterAck.reduce((a, b) => a + b, 0), 0);
  row('leak after ack, ours (both transports)', `${leaks} packets`, '0', leaks === 0);
  lines.push('Goals (issue 10) this run checks; one run on a shared machine, so indicative:');
  lines.push('');
  lines.push('| goal | measured | wanted | met |');
  lines.push('|---|---:|---:|---|');
  lines.push(...rows);
  lines.push('');
}

export function markdown(report: Report): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`Machine: ${m.cpuModel} × ${m.cpuCount}, ${Math.round((m.memoryBytes as number) / 2 ** 30)} GiB, Node ${m.node}, mediasoup ${m.mediasoup}${m.janus ? `, Janus ${m.janus}` : ''}. Command: \`${report.command}\`.`);
  lines.push('');
  goalsTable(report, lines);
  latencyTable(report.runs, lines);
  throughputTable(report.runs, report.throughputP99Ms, lines);
  forwardingCostTable(report.forwardingCost, lines);
  fanoutTable(report.fanout, lines);
  lines.push('');
  lines.push(`Metrics check: ${JSON.stringify(report.metricsCheck)}`);
  return lines.join('\n') + '\n';
}
