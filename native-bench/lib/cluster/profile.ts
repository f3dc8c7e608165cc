/**
 * `npm run bench -- --profile cluster`: what a mute costs in a cluster (issue 11). One run, the
 * same probe and load for every target: a single process without Redis; two nodes sharing a
 * redis-server, with the mute sent to the node that hosts the call (local) or to the other one
 * (cross-node, forwarded over Redis to the host, whose worker confirms the pause before the 200).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mintDevToken } from '../../../src/api/auth/devTokens.js';
import { installedMediasoupVersion } from '../../../src/media/workerBinary.js';
import { GatewayTarget } from '../../targets/GatewayTarget.js';
import { startGatewayProcess, type GatewayProcess } from '../gatewayProcess.js';
import { HttpMuteClient } from '../HttpMuteClient.js';
import type { MuteClient } from '../muteClient.js';
import { runMuteLatency } from '../muteLatency.js';
import { RedisProcess } from '../redisProcess.js';
import { summarize, type Summary } from '../stats.js';
import { WsMuteClient } from '../WsMuteClient.js';
import { NodeChoosingMuteClient } from './NodeChoosingMuteClient.js';

export const CLUSTER_HELP = `npm run bench -- --profile cluster [options]

The mute in a cluster of two nodes sharing a redis-server (Debian's: scripts/setup.sh --test),
beside a single process without Redis, in one run: per N background streams, the probe is muted
and unmuted K times through each of
  single          one gateway, no cluster (HTTP)
  cluster-local   HTTP to the node hosting the call (its state is written to Redis before the 200)
  cross-node      HTTP to the other node, which forwards it over Redis to the host
  cross-node-ws   the same over one WebSocket to the other node
and the report gives mute ack p50/p99, when the last forwarded probe packet was sent (relative
to the request) and leak after ack (must be 0). About 1–2 minutes.

  --streams LIST   background streams N (default 10,100)
  --mutes K        mute/unmute pairs per N and target (default 100)
  --out DIR        results.json and results.md (default native-bench/out/cluster)
  --help           this text`;

const TARGETS = ['single', 'cluster-local', 'cross-node', 'cross-node-ws'] as const;
type ClusterTarget = (typeof TARGETS)[number];

interface ClusterRun {
  target: ClusterTarget;
  streams: number;
  ackMs: Summary;
  lastForwardedMs: Summary;
  firstDroppedMs: Summary;
  leakAfterAck: number;
  mutes: number;
}

export function clusterRequested(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--profile=cluster' || (a === '--profile' && argv[i + 1] === 'cluster'));
}

const progress = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

export async function runClusterProfile(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      profile: { type: 'string' },
      streams: { type: 'string', default: '10,100' },
      mutes: { type: 'string', default: '100' },
      out: { type: 'string', default: 'native-bench/out/cluster' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(CLUSTER_HELP + '\n');
    return 0;
  }
  const streams = (values.streams as string).split(',').map(Number);
  const mutes = Number(values.mutes);
  if (streams.some((n) => !Number.isInteger(n) || n < 0) || !Number.isInteger(mutes) || mutes < 1) {
    process.stderr.write(`native-bench: --streams takes whole numbers and --mutes one ≥ 1\n\n${CLUSTER_HELP}\n`);
    return 2;
  }
  const started = Date.now();
  const secret = randomBytes(24).toString('hex');
  const token = await mintDevToken(secret, { role: 'app', subject: 'native-bench' });
  const common = { MUTEGATE_MEDIA_NUM_WORKERS: '1', MUTEGATE_AUTH_HS256_SECRET: secret, MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true' };
  const redis = await RedisProcess.start();
  const inspect = redis.client();
  const gateways: GatewayProcess[] = [];
  const clients: MuteClient[] = [];
  try {
    const single = await startGatewayProcess(common);
    gateways.push(single);
    const cluster = { ...common, MUTEGATE_CLUSTER_REDIS_URL: redis.url };
    const nodeA = await startGatewayProcess(cluster);
    const nodeB = await startGatewayProcess(cluster);
    gateways.push(nodeA, nodeB);
    const nodeIdOf = async (url: string) => ((await (await fetch(`${url}/healthz`)).json()) as { cluster: { nodeId: string } }).cluster.nodeId;
    const nodes = [
      { url: nodeA.url, nodeId: await nodeIdOf(nodeA.url) },
      { url: nodeB.url, nodeId: await nodeIdOf(nodeB.url) },
    ];
    progress(`redis-server on ${redis.url}; nodes ${nodes.map((n) => n.url).join(', ')}; a single gateway at ${single.url}`);
    const hostOf = async (callId: string) => {
      const host = await inspect.hget(`mutegate:call:${callId}`, 'node');
      if (!host) throw new Error(`call ${callId} is not in Redis`);
      return host;
    };
    const perNode = async (connect: (url: string) => Promise<MuteClient>) => {
      const map = new Map<string, MuteClient>();
      for (const node of nodes) {
        const client = await connect(node.url);
        clients.push(client);
        map.set(node.nodeId, client);
      }
      return map;
    };
    const httpClients = await perNode(async (url) => new HttpMuteClient(url, token));
    const wsClients = await perNode((url) => WsMuteClient.connect(url, token));
    const singleClient = new HttpMuteClient(single.url, token);
    clients.push(singleClient);
    // Calls are created through node A; placement may put them on either node: the clients look up the host.
    const targets: Record<ClusterTarget, GatewayTarget> = {
      single: new GatewayTarget(single.url, token, singleClient),
      'cluster-local': new GatewayTarget(nodeA.url, token, new NodeChoosingMuteClient(httpClients, hostOf, 'host')),
      'cross-node': new GatewayTarget(nodeA.url, token, new NodeChoosingMuteClient(httpClients, hostOf, 'other')),
      'cross-node-ws': new GatewayTarget(nodeA.url, token, new NodeChoosingMuteClient(wsClients, hostOf, 'other')),
    };
    const runs: ClusterRun[] = [];
    for (const n of streams) {
      for (const name of TARGETS) {
        progress(`${name}: N=${n}, ${mutes} mute/unmute pairs`);
        const run = await runMuteLatency(targets[name], { streams: n, mutes, probeIntervalMs: 1, packetsPerSecond: 50, payloadBytes: 80, payloadType: 100, progress });
        runs.push({
          target: name,
          streams: n,
          ackMs: summarize(run.results.map((r) => r.apiLatencyMs)),
          lastForwardedMs: summarize(run.results.map((r) => r.enforcementLowMs)),
          firstDroppedMs: summarize(run.results.map((r) => r.enforcementHighMs)),
          leakAfterAck: run.results.reduce((sum, r) => sum + r.leakAfterAck, 0),
          mutes: run.results.length,
        });
      }
    }
    const report = {
      machine: { cpus: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, mediasoup: installedMediasoupVersion() },
      command: `npm run bench -- ${argv.join(' ')}`,
      date: new Date().toISOString(),
      minutes: (Date.now() - started) / 60_000,
      runs,
    };
    const out = resolve(values.out as string);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'results.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(out, 'results.md'), clusterMarkdown(report));
    process.stdout.write(clusterMarkdown(report));
    return runs.some((r) => r.leakAfterAck > 0) ? 1 : 0;
  } finally {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const gateway of gateways) await gateway.stop();
    inspect.disconnect();
    await redis.kill();
  }
}

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

export function clusterMarkdown(report: { machine: Record<string, unknown>; command: string; date: string; minutes: number; runs: ClusterRun[] }): string {
  const m = report.machine;
  const lines = [
    '# Cluster mute: local vs cross-node (native-bench --profile cluster)',
    '',
    `Machine: ${String(m.cpus)}, ${String(m.memoryGiB)} GiB, Node ${String(m.node)}, mediasoup ${String(m.mediasoup)}. Command: \`${report.command}\` (${report.minutes.toFixed(1)} min, ${report.date.slice(0, 10)}).`,
    '',
    'Per N background streams (calls of two, 50 packets/s each) the probe (one packet per ms, two receivers) is muted and unmuted; every target in the same run. single: one gateway without Redis; cluster-local: two nodes sharing a redis-server, the mute sent to the node hosting the call; cross-node: sent to the other node, which forwards it over Redis (HTTP, or over one WebSocket). Last forwarded / first dropped: send time of the last probe packet forwarded and of the first dropped, relative to the request. Leak after ack: probe packets sent after the 200 that were forwarded; must be 0.',
    '',
    '| N | target | mute ack p50 / p99, ms | last forwarded p50, ms | first dropped p50 / p99, ms | mutes | leak after ack |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...report.runs.map(
      (r) => `| ${r.streams} | ${r.target} | ${ms(r.ackMs.p50)} / ${ms(r.ackMs.p99)} | ${ms(r.lastForwardedMs.p50)} | ${ms(r.firstDroppedMs.p50)} / ${ms(r.firstDroppedMs.p99)} | ${r.mutes} | ${r.leakAfterAck} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
