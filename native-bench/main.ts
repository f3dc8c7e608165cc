import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { mintDevToken } from '../src/api/auth/devTokens.js';
import { installedMediasoupVersion } from '../src/media/workerBinary.js';
import { FanoutSubscribers, type Encoding } from './lib/FanoutSubscribers.js';
import { startGatewayProcess, type GatewayProcess } from './lib/gatewayProcess.js';
import { runMuteLatency } from './lib/muteLatency.js';
import type { MuteResult } from './lib/probeAnalysis.js';
import { ratio, summarize, type Summary } from './lib/stats.js';
import { cdfPlotSvg } from './lib/svgPlot.js';
import { runThroughput, type ThroughputResult } from './lib/throughput.js';
import { GatewayTarget } from './targets/GatewayTarget.js';
import { RawTarget } from './targets/RawTarget.js';
import type { BenchTarget, Timed } from './targets/target.js';

const HELP = `npm run bench -- [options]

Measures how fast a server mute really stops audio in mutegate, against mediasoup called
directly (producer.pause()/resume() in this process) under the same load, in one run.

  --profile quick|full      quick (default, < 2 min): N=10,100, S=10,100
                            full: N=10,100,500,1000, S=10,100,1000
  --streams LIST            background streams N, comma-separated (overrides the profile)
  --subscribers LIST        WebSocket subscribers S for the roster fan-out sweep
  --mutes K                 mute/unmute pairs per N and target (quick 30, full 100)
  --probe-interval-ms MS    probe packet interval (default 1: one packet per ms)
  --packet-rate PPS         packets per second of each background stream (default 50)
  --payload-bytes B         RTP payload size (default 80, an Opus frame at ~32 kbit/s)
  --throughput-rates LIST   mute/unmute rates (ops/s) to ramp through (default 100,200,400,800,1600,3200)
  --throughput-seconds S    seconds per throughput step (quick 1, full 3); 0 skips throughput
  --throughput-p99-ms MS    p99 latency a sustained rate must stay under (default 50)
  --target URL              measure a gateway that is already running (otherwise one is started)
  --token JWT               with --target: an application token for it (npm run token -- --role app);
                            the gateway must allow application unmute (auth.allowAppRemoteUnmute)
  --out DIR                 where results.json, results.md and latency-cdf.svg go (default native-bench/out)
  --help                    this text

Every probe packet carries its send time; receivers report which arrived. Enforcement is
bracketed by the send times of the last forwarded and the first dropped probe packet,
relative to the request. "Leak after ack" counts probe packets sent after the 200 arrived
that were still forwarded: it must be 0.`;

interface Options {
  profile: 'quick' | 'full';
  streams: number[];
  subscribers: number[];
  mutes: number;
  probeIntervalMs: number;
  packetRate: number;
  payloadBytes: number;
  throughputRates: number[];
  throughputSeconds: number;
  throughputP99Ms: number;
  target?: string;
  token?: string;
  out: string;
}

const PAYLOAD_TYPE = 100;
const RAW_PORTS = { min: 30000, max: 34999 };

function parseList(value: string, name: string): number[] {
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--${name} takes a comma-separated list of whole numbers, got "${value}"`);
  return list;
}

function positive(value: string, name: string, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new Error(`--${name} takes a ${integer ? 'whole ' : ''}number ≥ 0, got "${value}"`);
  return n;
}

function options(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', default: 'quick' },
      streams: { type: 'string' },
      subscribers: { type: 'string' },
      mutes: { type: 'string' },
      'probe-interval-ms': { type: 'string', default: '1' },
      'packet-rate': { type: 'string', default: '50' },
      'payload-bytes': { type: 'string', default: '80' },
      'throughput-rates': { type: 'string', default: '100,200,400,800,1600,3200' },
      'throughput-seconds': { type: 'string' },
      'throughput-p99-ms': { type: 'string', default: '50' },
      target: { type: 'string' },
      token: { type: 'string' },
      out: { type: 'string', default: 'native-bench/out' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return null;
  if (values.profile !== 'quick' && values.profile !== 'full') throw new Error(`--profile is quick or full, got "${values.profile}"`);
  const full = values.profile === 'full';
  if (values.target && !/^https?:\/\/[^/]+$/.test(values.target)) throw new Error(`--target takes a base URL like http://127.0.0.1:8080, got "${values.target}"`);
  if (values.target && !values.token) throw new Error('--target needs --token (an application token for that gateway: npm run token -- --role app)');
  return {
    profile: values.profile,
    streams: values.streams ? parseList(values.streams, 'streams') : full ? [10, 100, 500, 1000] : [10, 100],
    subscribers: values.subscribers ? parseList(values.subscribers, 'subscribers') : full ? [10, 100, 1000] : [10, 100],
    mutes: values.mutes ? positive(values.mutes, 'mutes') : full ? 100 : 30,
    probeIntervalMs: positive(values['probe-interval-ms'] as string, 'probe-interval-ms', false),
    packetRate: positive(values['packet-rate'] as string, 'packet-rate'),
    payloadBytes: positive(values['payload-bytes'] as string, 'payload-bytes'),
    throughputRates: parseList(values['throughput-rates'] as string, 'throughput-rates'),
    throughputSeconds: values['throughput-seconds'] ? positive(values['throughput-seconds'], 'throughput-seconds', false) : full ? 3 : 1,
    throughputP99Ms: positive(values['throughput-p99-ms'] as string, 'throughput-p99-ms', false),
    target: values.target,
    token: values.token,
    out: values.out as string,
  };
}

const METRICS = ['apiLatencyMs', 'enforcementLowMs', 'enforcementHighMs', 'unmuteApiLatencyMs', 'unmuteFirstForwardedMs', 'leakAfterAck', 'forwardedAcrossUnmute'] as const;
/** Packet counts, not latencies: shown as totals, never as ratios. */
const COUNTS: readonly Metric[] = ['leakAfterAck', 'forwardedAcrossUnmute'];
type Metric = (typeof METRICS)[number];

interface Run {
  target: 'ours' | 'raw';
  streams: number;
  samples: Record<Metric, number[]>;
  summary: Record<Metric, Summary>;
  probe: { sent: number; forwarded: number };
  load: { streams: number; sent: number; received: number; seconds: number; receivedRatePerSecond: number };
  throughput?: ThroughputResult;
  fanout?: FanoutResult;
}

interface FanoutResult {
  subscribers: number;
  streams: number;
  samples: Record<Encoding, number[]>;
  summary: Record<Encoding, Summary>;
  bytesPerUpdate: Record<Encoding, number>;
  missing: number;
}

const progress = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function scrapeCounts(baseUrl: string, token: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^mutegate_mute_operations_total\{operation="(\w+)",result="(\w+)"\} (\d+)/.exec(line);
    if (m) counts[`${m[1]}:${m[2]}`] = Number(m[3]);
  }
  return counts;
}

function toRun(target: 'ours' | 'raw', streams: number, results: MuteResult[], probe: Run['probe'], load: Omit<Run['load'], 'receivedRatePerSecond'>): Run {
  const samples = Object.fromEntries(METRICS.map((m) => [m, results.map((r) => r[m])])) as Record<Metric, number[]>;
  const summary = Object.fromEntries(METRICS.map((m) => [m, summarize(samples[m])])) as Record<Metric, Summary>;
  return { target, streams, samples, summary, probe, load: { ...load, receivedRatePerSecond: load.received / load.seconds } };
}

async function measure(target: BenchTarget, streams: number, opts: Options, subscribers: number, gatewayUrl: string, token: string): Promise<Run> {
  let fan: FanoutSubscribers | undefined;
  const acks: Timed[] = [];
  let throughput: ThroughputResult | undefined;
  try {
    const run = await runMuteLatency(target, {
      streams,
      mutes: opts.mutes,
      probeIntervalMs: opts.probeIntervalMs,
      packetsPerSecond: opts.packetRate,
      payloadBytes: opts.payloadBytes,
      payloadType: PAYLOAD_TYPE,
      progress,
      onProbeReady: async () => {
        if (subscribers > 0 && gatewayUrl && target instanceof GatewayTarget && target.probeCallId) {
          progress(`ours: connecting ${subscribers} WebSocket subscribers`);
          fan = await FanoutSubscribers.connect(gatewayUrl, target.probeCallId, subscribers, token);
        }
      },
      onAck: (ack) => acks.push(ack),
      whileLoaded: async () => {
        if (opts.throughputSeconds > 0 && streams > 0) {
          throughput = await runThroughput(target, streams, opts.throughputRates, opts.throughputSeconds, opts.throughputP99Ms, progress);
        }
      },
    });
    const result = toRun(target.name, streams, run.results, run.probe, run.load);
    if (throughput) result.throughput = throughput;
    if (fan) {
      const collected = await fan.collect(acks.map((a) => a.ackAt));
      result.fanout = {
        subscribers,
        streams,
        samples: collected.latencyMs,
        summary: { json: summarize(collected.latencyMs.json), proto: summarize(collected.latencyMs.proto) },
        bytesPerUpdate: { json: summarize(collected.bytes.json).p50, proto: summarize(collected.bytes.proto).p50 },
        missing: collected.missing,
      };
    }
    return result;
  } finally {
    await fan?.close();
  }
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

function markdown(report: { runs: Run[]; fanout: FanoutResult[]; machine: Record<string, unknown>; command: string; metricsCheck: unknown }): string {
  const lines: string[] = [];
  lines.push(`Machine: ${report.machine.cpuModel} × ${report.machine.cpuCount}, ${Math.round((report.machine.memoryBytes as number) / 2 ** 30)} GiB, Node ${report.machine.node}, mediasoup ${report.machine.mediasoup}. Command: \`${report.command}\`.`);
  lines.push('');
  lines.push('Mute latency, milliseconds (p50 / p99); ratio = ours ÷ raw, at the p50 and the p99:');
  lines.push('');
  lines.push('| N streams | metric | ours p50 / p99 | raw p50 / p99 | ratio p50 | ratio p99 |');
  lines.push('|---:|---|---:|---:|---:|---:|');
  const label: Record<Metric, string> = {
    apiLatencyMs: 'mute: request → ack',
    enforcementLowMs: 'mute: last forwarded packet sent at',
    enforcementHighMs: 'mute: first dropped packet sent at',
    unmuteApiLatencyMs: 'unmute: request → ack',
    unmuteFirstForwardedMs: 'unmute: first forwarded packet sent at',
    leakAfterAck: 'leak after ack (packets)',
    forwardedAcrossUnmute: 'sent while muted, arrived after the unmute request (packets, not a leak)',
  };
  const streams = [...new Set(report.runs.map((r) => r.streams))];
  for (const n of streams) {
    const ours = report.runs.find((r) => r.target === 'ours' && r.streams === n);
    const raw = report.runs.find((r) => r.target === 'raw' && r.streams === n);
    for (const m of METRICS) {
      const o = ours?.summary[m];
      const r = raw?.summary[m];
      const count = COUNTS.includes(m);
      const total = (run: Run | undefined) => (run ? String(run.samples[m].reduce((a, b) => a + b, 0)) : '–');
      // A ratio only means something for a positive latency (the lower bound can be negative).
      const ratioCell = (a: number, b: number) => (count || m === 'enforcementLowMs' ? '' : fmt(ratio(a, b)));
      lines.push(
        `| ${n} | ${label[m]} | ${count ? `${total(ours)} in total` : `${fmt(o?.p50 ?? NaN)} / ${fmt(o?.p99 ?? NaN)}`} | ${count ? `${total(raw)} in total` : `${fmt(r?.p50 ?? NaN)} / ${fmt(r?.p99 ?? NaN)}`} | ${ratioCell(o?.p50 ?? NaN, r?.p50 ?? NaN)} | ${ratioCell(o?.p99 ?? NaN, r?.p99 ?? NaN)} |`,
      );
    }
    const tpO = ours?.throughput;
    const tpR = raw?.throughput;
    if (tpO || tpR) {
      lines.push(
        `| ${n} | sustained mute/unmute rate (ops/s), p99 at it | ${tpO ? `${tpO.sustainedOpsPerSecond}, ${fmt(tpO.p99AtSustainedMs)}` : '–'} | ${tpR ? `${tpR.sustainedOpsPerSecond}, ${fmt(tpR.p99AtSustainedMs)}` : '–'} | ${tpO && tpR ? fmt(ratio(tpO.sustainedOpsPerSecond, tpR.sustainedOpsPerSecond)) : ''} | |`,
      );
    }
  }
  if (report.fanout.length) {
    lines.push('');
    lines.push('Roster fan-out (ours): update arrival at each WebSocket subscriber minus the HTTP 200 arrival, ms (negative: the update came first), and bytes per update:');
    lines.push('');
    lines.push('| S subscribers | N streams | JSON p50 / p99 / max | protobuf p50 / p99 / max | bytes JSON / protobuf | missing |');
    lines.push('|---:|---:|---:|---:|---:|---:|');
    for (const f of report.fanout) {
      lines.push(
        `| ${f.subscribers} | ${f.streams} | ${fmt(f.summary.json.p50)} / ${fmt(f.summary.json.p99)} / ${fmt(f.summary.json.max)} | ${fmt(f.summary.proto.p50)} / ${fmt(f.summary.proto.p99)} / ${fmt(f.summary.proto.max)} | ${fmt(f.bytesPerUpdate.json, 0)} / ${fmt(f.bytesPerUpdate.proto, 0)} | ${f.missing} |`,
      );
    }
  }
  lines.push('');
  lines.push(`Metrics check: ${JSON.stringify(report.metricsCheck)}`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<number> {
  let opts: Options | null;
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`native-bench: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const started = Date.now();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  let gateway: GatewayProcess | undefined;
  let token = opts.token;
  if (!opts.target) {
    // Our own gateway: a throwaway secret, and application unmute allowed (the bench unmutes).
    const secret = randomBytes(24).toString('hex');
    gateway = await startGatewayProcess({ MUTEGATE_MEDIA_NUM_WORKERS: '1', MUTEGATE_AUTH_HS256_SECRET: secret, MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true' });
    token = await mintDevToken(secret, { role: 'app', subject: 'native-bench' });
  }
  const baseUrl = opts.target ?? (gateway as GatewayProcess).url;
  progress(opts.target ? `measuring the running gateway at ${baseUrl}` : `started a gateway at ${baseUrl} (1 worker)`);
  const ours = new GatewayTarget(baseUrl, token as string);
  const raw = await RawTarget.create(RAW_PORTS.min, RAW_PORTS.max);
  const countsBefore = await scrapeCounts(baseUrl, token as string);
  const runs: Run[] = [];
  const fanout: FanoutResult[] = [];
  try {
    for (const n of opts.streams) {
      for (const target of [raw, ours] as BenchTarget[]) {
        progress(`${target.name}: N=${n} streams at ${opts.packetRate} packets/s, probe every ${opts.probeIntervalMs} ms, ${opts.mutes} mute/unmute pairs`);
        const run = await measure(target, n, opts, target === ours ? (opts.subscribers[0] ?? 0) : 0, baseUrl, token as string);
        runs.push(run);
        const leak = run.summary.leakAfterAck.max;
        if (leak > 0) progress(`!!!!! LEAK: ${target.name} N=${n}: ${leak} probe packet(s) sent after the acknowledgement were forwarded !!!!!`);
        if (run.fanout) fanout.push(run.fanout);
      }
    }
    // The fan-out sweep: S subscribers on the probe call, light load.
    for (const s of opts.subscribers.slice(1)) {
      progress(`ours: roster fan-out with S=${s} subscribers`);
      const run = await measure(ours, opts.streams[0] ?? 10, { ...opts, throughputSeconds: 0, mutes: Math.min(opts.mutes, 20) }, s, baseUrl, token as string);
      if (run.fanout) fanout.push(run.fanout);
    }
  } finally {
    await raw.close();
  }

  const countsAfter = await scrapeCounts(baseUrl, token as string);
  const delta = (key: string) => (countsAfter[key] ?? 0) - (countsBefore[key] ?? 0);
  const metricsCheck = {
    mutesIssued: ours.issued.mute,
    mutesCounted: delta('mute:completed'),
    unmutesIssued: ours.issued.unmute,
    unmutesCounted: delta('unmute:completed'),
    failedIssued: ours.issued.failed,
    failedCounted: delta('mute:failed') + delta('unmute:failed'),
    match: ours.issued.mute === delta('mute:completed') && ours.issued.unmute === delta('unmute:completed'),
  };
  if (!metricsCheck.match) progress(`!!!!! METRICS MISMATCH: the gateway counted ${JSON.stringify(metricsCheck)} !!!!!`);
  await gateway?.stop();

  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const machine = {
    hostname: hostname(),
    platform: process.platform,
    arch: process.arch,
    kernel: release(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpuCount: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    mediasoup: installedMediasoupVersion(),
  };
  const ratios = opts.streams.map((n) => {
    const o = runs.find((r) => r.target === 'ours' && r.streams === n);
    const r = runs.find((x) => x.target === 'raw' && x.streams === n);
    return Object.fromEntries([
      ['streams', n],
      ...METRICS.filter((m) => !COUNTS.includes(m) && m !== 'enforcementLowMs').map((m) => [m, { p50: ratio(o?.summary[m].p50 ?? NaN, r?.summary[m].p50 ?? NaN), p99: ratio(o?.summary[m].p99 ?? NaN, r?.summary[m].p99 ?? NaN) }]),
    ]);
  });
  const leaks = runs.reduce((sum, r) => sum + r.samples.leakAfterAck.reduce((a, b) => a + b, 0), 0);
  const report = {
    tool: 'mutegate native-bench',
    command,
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    machine,
    versions: { mutegate: pkg.version, mediasoup: machine.mediasoup, node: process.version },
    parameters: { ...opts, token: undefined, target: opts.target ?? 'started by the bench', workers: 1 },
    leakAfterAckTotal: leaks,
    metricsCheck,
    ratios,
    runs,
    fanout,
  };

  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  const table = markdown({ runs, fanout, machine, command, metricsCheck });
  writeFileSync(join(out, 'results.md'), table);
  const panels = opts.streams.map((n) => {
    const o = runs.find((r) => r.target === 'ours' && r.streams === n);
    const r = runs.find((x) => x.target === 'raw' && x.streams === n);
    return {
      title: `N = ${n} streams`,
      series: [
        { label: 'ours: mute request → 200', samples: o?.samples.apiLatencyMs ?? [], color: '#d62728' },
        { label: 'raw: pause() → resolved', samples: r?.samples.apiLatencyMs ?? [], color: '#1f77b4' },
        { label: 'ours: first dropped packet sent at', samples: o?.samples.enforcementHighMs ?? [], color: '#d62728', dashed: true },
        { label: 'raw: first dropped packet sent at', samples: r?.samples.enforcementHighMs ?? [], color: '#1f77b4', dashed: true },
      ],
    };
  });
  writeFileSync(join(out, 'latency-cdf.svg'), cdfPlotSvg(`Server mute latency CDF, ours vs raw mediasoup (${machine.cpuCount} × ${machine.cpuModel})`, 'milliseconds after the mute request', panels));

  process.stdout.write(table);
  process.stdout.write(`\nWrote ${join(out, 'results.json')}, results.md and latency-cdf.svg in ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
  if (leaks > 0) process.stdout.write(`\n!!!!! LEAK AFTER ACK: ${leaks} probe packet(s) forwarded after the acknowledgement !!!!!\n`);
  return leaks > 0 || !metricsCheck.match ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`native-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
