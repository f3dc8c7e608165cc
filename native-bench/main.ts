import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { mintDevToken } from '../src/api/auth/devTokens.js';
import { installedMediasoupVersion } from '../src/media/workerBinary.js';
import { FanoutSubscribers } from './lib/FanoutSubscribers.js';
import { runForwardingCost } from './lib/forwardingCost.js';
import { meanMsBetween, scrapeFanoutWrite } from './lib/gatewayMetrics.js';
import { startGatewayProcess, type GatewayProcess } from './lib/gatewayProcess.js';
import { HttpMuteClient } from './lib/HttpMuteClient.js';
import { hopTable, type HopSummary } from './lib/hops.js';
import { runMuteLatency } from './lib/muteLatency.js';
import type { MuteResult } from './lib/probeAnalysis.js';
import { childPids, mainThreadSource, processesSource, processSource, type CpuSource } from './lib/procCpu.js';
import { CPU, markdown, METRICS, ratiosToRaw, type FanoutResult, type ForwardingCost, type Metric, type Run, type TargetName } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';
import { cdfPlotSvg } from './lib/svgPlot.js';
import { runThroughput, type ThroughputResult } from './lib/throughput.js';
import { WsMuteClient } from './lib/WsMuteClient.js';
import { bigCallRequested, runBigCallProfile } from './lib/bigcall/profile.js';
import { clusterRequested, runClusterProfile } from './lib/cluster/profile.js';
import { GatewayTarget } from './targets/GatewayTarget.js';
import { JanusTarget } from './targets/JanusTarget.js';
import { RawTarget } from './targets/RawTarget.js';
import type { BenchTarget, Timed } from './targets/target.js';

const HELP = `npm run bench -- [options]

Measures how fast a server mute really stops audio in mutegate, against mediasoup called
directly (producer.pause()/resume() in this process) under the same load, in one run. mutegate
is measured twice: mutes over HTTP ("ours") and over one persistent WebSocket ("ours-ws").

  --profile quick|full      quick (default, about 2 min): N=10,100, S=10,100, ramp at N=100
                            full: N=10,100,500,1000, S=10,100,1000, ramp at N=1000
                            bigcall: one call of 25 … 200 talkers, speaker-aware forwarding
                            (its own options: npm run bench -- --profile bigcall --help)
                            cluster: local vs cross-node mutes in two nodes sharing Redis
                            (its own options: npm run bench -- --profile cluster --help)
  --streams LIST            background streams N, comma-separated (overrides the profile)
  --subscribers LIST        WebSocket subscribers S for the roster fan-out sweep
  --mutes K                 mute/unmute pairs per N and target (quick 30, full 100)
  --probe-interval-ms MS    probe packet interval (default 1: one packet per ms)
  --packet-rate PPS         packets per second of each background stream (default 50)
  --payload-bytes B         RTP payload size (default 80, an Opus frame at ~32 kbit/s)
  --throughput-rates LIST   mute/unmute rates (ops/s) to ramp through, each target until its first
                            failed step (default 200,400,800,1600,3200,6400,12800,25600)
  --throughput-seconds S    seconds per throughput step (quick 1, full 3); 0 skips throughput
  --throughput-p99-ms MS    p99 latency a sustained rate must stay under (default 10)
  --throughput-streams LIST the N at which to ramp (default: the largest N)
  --cpu-streams N           streams for the forwarding-cost measurement, no mutes (default 1000)
  --cpu-seconds S           its window (quick 3, full 10); 0 skips it
  --targets LIST            what to measure, comma-separated, among ours, ours-ws, raw, janus
                            (default ours,ours-ws,raw; ours and raw are always needed). janus:
                            Debian's Janus 1.1.x VideoRoom, started by the bench (scripts/setup.sh --bench)
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
  throughputStreams: number[];
  cpuStreams: number;
  cpuSeconds: number;
  targets: TargetName[];
  target?: string;
  token?: string;
  out: string;
}

const PAYLOAD_TYPE = 100;
const RAW_PORTS = { min: 30000, max: 34999 };
/** Janus's RTP ports: apart from raw's and from the gateway's (config/default.json: 40000–49999). */
const JANUS_PORTS = { min: 35000, max: 39999 };

function parseList(value: string, name: string): number[] {
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--${name} takes a comma-separated list of whole numbers, got "${value}"`);
  return list;
}

const TARGET_NAMES: readonly TargetName[] = ['ours', 'ours-ws', 'raw', 'janus'];

function parseTargets(value: string): TargetName[] {
  const list = [...new Set(value.split(',').map((v) => v.trim()))];
  const unknown = list.filter((t) => !TARGET_NAMES.includes(t as TargetName));
  if (unknown.length) throw new Error(`--targets takes ${TARGET_NAMES.join(', ')}, got "${unknown.join(', ')}"`);
  // raw is what every ratio divides by; ours carries the fan-out, forwarding-cost and metrics checks.
  for (const needed of ['ours', 'raw']) if (!list.includes(needed)) throw new Error(`--targets must include ${needed}, got "${value}"`);
  return list as TargetName[];
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
      'throughput-rates': { type: 'string', default: '200,400,800,1600,3200,6400,12800,25600' },
      'throughput-seconds': { type: 'string' },
      'throughput-p99-ms': { type: 'string', default: '10' },
      'throughput-streams': { type: 'string' },
      'cpu-streams': { type: 'string', default: '1000' },
      'cpu-seconds': { type: 'string' },
      targets: { type: 'string', default: 'ours,ours-ws,raw' },
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
  const streams = values.streams ? parseList(values.streams, 'streams') : full ? [10, 100, 500, 1000] : [10, 100];
  return {
    profile: values.profile,
    streams,
    subscribers: values.subscribers ? parseList(values.subscribers, 'subscribers') : full ? [10, 100, 1000] : [10, 100],
    mutes: values.mutes ? positive(values.mutes, 'mutes') : full ? 100 : 30,
    probeIntervalMs: positive(values['probe-interval-ms'] as string, 'probe-interval-ms', false),
    packetRate: positive(values['packet-rate'] as string, 'packet-rate'),
    payloadBytes: positive(values['payload-bytes'] as string, 'payload-bytes'),
    throughputRates: parseList(values['throughput-rates'] as string, 'throughput-rates'),
    throughputSeconds: values['throughput-seconds'] ? positive(values['throughput-seconds'], 'throughput-seconds', false) : full ? 3 : 1,
    throughputP99Ms: positive(values['throughput-p99-ms'] as string, 'throughput-p99-ms', false),
    throughputStreams: values['throughput-streams'] ? parseList(values['throughput-streams'], 'throughput-streams') : [Math.max(...streams)],
    cpuStreams: positive(values['cpu-streams'] as string, 'cpu-streams'),
    cpuSeconds: values['cpu-seconds'] ? positive(values['cpu-seconds'], 'cpu-seconds', false) : full ? 10 : 3,
    targets: parseTargets(values.targets as string),
    target: values.target,
    token: values.token,
    out: values.out as string,
  };
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

function toRun(target: TargetName, streams: number, results: MuteResult[], probe: Run['probe'], load: Omit<Run['load'], 'receivedRatePerSecond'>): Run {
  const samples = Object.fromEntries(METRICS.map((m) => [m, results.map((r) => r[m])])) as Record<Metric, number[]>;
  const summary = Object.fromEntries(METRICS.map((m) => [m, summarize(samples[m])])) as Record<Metric, Summary>;
  return { target, streams, samples, summary, probe, load: { ...load, receivedRatePerSecond: load.received / load.seconds } };
}

/**
 * What the bench reads CPU from for a target, by role (see CPU): ours = the gateway process and its
 * mediasoup workers (unknown for a gateway started elsewhere); raw = the raw worker, whose Node side
 * is the bench's main thread; janus = its one process, counted as the "worker" (it has no Node side: 0).
 */
function cpuSources(target: BenchTarget, gatewayPid: number | undefined): CpuSource[] {
  const bench = [mainThreadSource(CPU.benchMainThread), processSource(CPU.benchProcess, process.pid)];
  if (target instanceof RawTarget) return [mainThreadSource(CPU.sfuNode), processSource(CPU.sfuWorkers, target.workerPid), ...bench];
  if (target instanceof GatewayTarget && gatewayPid !== undefined) {
    return [processSource(CPU.sfuNode, gatewayPid), processesSource(CPU.sfuWorkers, childPids(gatewayPid)), ...bench];
  }
  if (target instanceof JanusTarget) return [processesSource(CPU.sfuNode, []), processSource(CPU.sfuWorkers, target.pid), ...bench];
  return bench;
}

async function measure(target: BenchTarget, streams: number, opts: Options, subscribers: number, gatewayUrl: string, token: string, cpu: CpuSource[]): Promise<Run> {
  let fan: FanoutSubscribers | undefined;
  let writesBefore: { sum: number; count: number } | undefined;
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
          writesBefore = await scrapeFanoutWrite(gatewayUrl, token);
        }
      },
      onAck: (ack) => acks.push(ack),
      whileLoaded: async () => {
        if (opts.throughputSeconds > 0 && streams > 0 && opts.throughputStreams.includes(streams)) {
          throughput = await runThroughput(target, streams, { rates: opts.throughputRates, stepSeconds: opts.throughputSeconds, p99LimitMs: opts.throughputP99Ms, cpu, progress });
        }
      },
    });
    const result = toRun(target.name, streams, run.results, run.probe, run.load);
    if (throughput) result.throughput = throughput;
    if (fan) {
      const collected = await fan.collect(acks.map((a) => a.ackAt));
      // Only the probe call has subscribers: every fan-out observed since is one of its updates.
      const gatewayWriteMeanMs = writesBefore ? meanMsBetween(writesBefore, await scrapeFanoutWrite(gatewayUrl, token)) : NaN;
      result.fanout = {
        subscribers,
        streams,
        threads: fan.threadCount,
        gatewayWriteMeanMs,
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

async function main(): Promise<number> {
  // The big-call profile has its own options and report (lib/bigcall/profile.ts).
  if (bigCallRequested(process.argv.slice(2))) return runBigCallProfile(process.argv.slice(2));
  // So has the cluster profile (lib/cluster/profile.ts).
  if (clusterRequested(process.argv.slice(2))) return runClusterProfile(process.argv.slice(2));
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
  // Janus first: when it is missing or does not start, nothing else has been started yet.
  const janus = opts.targets.includes('janus') ? await JanusTarget.create(JANUS_PORTS.min, JANUS_PORTS.max) : undefined;
  if (janus) progress(`started Janus ${janus.version} (pid ${janus.pid})`);
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
  const ours = new GatewayTarget(baseUrl, token as string, new HttpMuteClient(baseUrl, token as string));
  const oursWs = opts.targets.includes('ours-ws') ? new GatewayTarget(baseUrl, token as string, await WsMuteClient.connect(baseUrl, token as string)) : undefined;
  const gatewayTargets = oursWs ? [ours, oursWs] : [ours];
  const raw = await RawTarget.create(RAW_PORTS.min, RAW_PORTS.max);
  const targets: BenchTarget[] = [raw, ...gatewayTargets, ...(janus ? [janus] : [])];
  const gatewayPid = gateway?.process.pid;
  const countsBefore = await scrapeCounts(baseUrl, token as string);
  const runs: Run[] = [];
  /** Where ours' HTTP mutes spent their time, per run (from Server-Timing; see lib/hops.ts). */
  const hopRuns: { label: string; hops: HopSummary }[] = [];
  const takeHops = (label: string) => {
    const hops = ours.hops.take();
    if (hops) hopRuns.push({ label, hops });
  };
  const fanout: FanoutResult[] = [];
  const forwardingCost: ForwardingCost[] = [];
  try {
    for (const n of opts.streams) {
      for (const target of targets) {
        progress(`${target.name}: N=${n} streams at ${opts.packetRate} packets/s, probe every ${opts.probeIntervalMs} ms, ${opts.mutes} mute/unmute pairs`);
        const run = await measure(target, n, opts, target === ours ? (opts.subscribers[0] ?? 0) : 0, baseUrl, token as string, cpuSources(target, gatewayPid));
        if (target === ours) takeHops(`N = ${n}`);
        runs.push(run);
        const leak = run.summary.leakAfterAck.max;
        if (leak > 0) progress(`!!!!! LEAK: ${target.name} N=${n}: ${leak} probe packet(s) sent after the acknowledgement were forwarded !!!!!`);
        if (run.fanout) fanout.push(run.fanout);
      }
    }
    // The fan-out sweep: S subscribers on the probe call, light load.
    for (const s of opts.subscribers.slice(1)) {
      progress(`ours: roster fan-out with S=${s} subscribers`);
      const run = await measure(ours, opts.streams[0] ?? 10, { ...opts, throughputSeconds: 0, mutes: Math.min(opts.mutes, 20) }, s, baseUrl, token as string, []);
      takeHops(`N = ${opts.streams[0] ?? 10}, S = ${s}`);
      if (run.fanout) fanout.push(run.fanout);
    }
    // Forwarding cost: N streams, no mutes (ours-ws forwards exactly like ours: measured once).
    if (opts.cpuSeconds > 0 && opts.cpuStreams > 0) {
      for (const target of [raw, ours, ...(janus ? [janus] : [])]) {
        const sources = cpuSources(target, gatewayPid);
        const result = await runForwardingCost(target, {
          streams: opts.cpuStreams,
          packetsPerSecond: opts.packetRate,
          payloadBytes: opts.payloadBytes,
          payloadType: PAYLOAD_TYPE,
          seconds: opts.cpuSeconds,
          warmupSeconds: 1,
          cpu: sources,
          progress,
        });
        const sfuPercent = (result.cpuPercent[CPU.sfuNode] ?? NaN) + (result.cpuPercent[CPU.sfuWorkers] ?? NaN);
        forwardingCost.push({ target: target.name, ...result, sfuPercent });
      }
    }
  } finally {
    await raw.close();
    await Promise.all(gatewayTargets.map((t) => t.close()));
    await janus?.close();
  }

  const countsAfter = await scrapeCounts(baseUrl, token as string);
  const delta = (key: string) => (countsAfter[key] ?? 0) - (countsBefore[key] ?? 0);
  // Both transports reach the same counters.
  const issued = (k: keyof GatewayTarget['issued']) => gatewayTargets.reduce((sum, t) => sum + t.issued[k], 0);
  const metricsCheck = {
    mutesIssued: issued('mute'),
    mutesCounted: delta('mute:completed'),
    unmutesIssued: issued('unmute'),
    unmutesCounted: delta('unmute:completed'),
    failedIssued: issued('failed'),
    failedCounted: delta('mute:failed') + delta('unmute:failed'),
    match: issued('mute') === delta('mute:completed') && issued('unmute') === delta('unmute:completed'),
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
    ...(janus ? { janus: janus.version } : {}),
  };
  const ratios = ratiosToRaw(runs);
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
    forwardingCost,
    hops: hopRuns,
  };

  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
  const table = markdown({ runs, fanout, forwardingCost, machine, command, metricsCheck, throughputP99Ms: opts.throughputP99Ms }) + (hopRuns.length ? `\n${hopTable(hopRuns).join('\n')}\n` : '');
  writeFileSync(join(out, 'results.md'), table);
  const panels = opts.streams.map((n) => {
    const o = runs.find((r) => r.target === 'ours' && r.streams === n);
    const w = runs.find((r) => r.target === 'ours-ws' && r.streams === n);
    const r = runs.find((x) => x.target === 'raw' && x.streams === n);
    const j = runs.find((x) => x.target === 'janus' && x.streams === n);
    const janusSeries = j
      ? [
          { label: 'janus: moderate request → reply', samples: j.samples.apiLatencyMs, color: '#9467bd' },
          { label: 'janus: first dropped packet sent at', samples: j.samples.enforcementHighMs, color: '#9467bd', dashed: true },
        ]
      : [];
    return {
      title: `N = ${n} streams`,
      series: [
        { label: 'ours: mute request → 200', samples: o?.samples.apiLatencyMs ?? [], color: '#d62728' },
        { label: 'ours-ws: mute request → response', samples: w?.samples.apiLatencyMs ?? [], color: '#2ca02c' },
        { label: 'raw: pause() → resolved', samples: r?.samples.apiLatencyMs ?? [], color: '#1f77b4' },
        { label: 'ours: first dropped packet sent at', samples: o?.samples.enforcementHighMs ?? [], color: '#d62728', dashed: true },
        { label: 'raw: first dropped packet sent at', samples: r?.samples.enforcementHighMs ?? [], color: '#1f77b4', dashed: true },
        ...janusSeries,
      ],
    };
  });
  writeFileSync(join(out, 'latency-cdf.svg'), cdfPlotSvg(`Server mute latency CDF, ours vs raw mediasoup${janus ? ` vs Janus ${janus.version}` : ''} (${machine.cpuCount} × ${machine.cpuModel})`, 'milliseconds after the mute request', panels));

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
