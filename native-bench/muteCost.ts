/**
 * What one mute or unmute costs the gateway in CPU: a gateway started here (one worker), N plain-RTP
 * participants streaming at 50 packets/s, and mute/unmute requests over one WebSocket (JSON),
 * paced at a fixed rate and spread over all participants, for a fixed time. Reports the gateway
 * process's and the worker's CPU (from /proc) per operation, above the same window without
 * operations, and the answer latency. Quick to run while cutting per-operation work:
 *
 *   node --import tsx native-bench/muteCost.ts [--streams 100] [--rate 1000] [--seconds 5]
 *                     [--subscribers 0] [--rounds 1] [--compare DIR] [--cpu-prof DIR]
 *
 * --compare DIR: another checkout of mutegate (e.g. `git worktree add /tmp/before HEAD~1`, with
 * node_modules linked in) measured in the same run, alternating with this one round by round,
 * so that a before/after comparison on a noisy machine shares its noise.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintDevToken } from '../src/api/auth/devTokens.js';
import { MutegateHttp, MutegateSocket, type WebSocketConstructor } from '../src/client/index.js';
import { startGatewayProcess } from './lib/gatewayProcess.js';
import { childPids, processCpuSeconds } from './lib/procCpu.js';
import { joinPlainLegs, loopbackSocket, streamPlainLegs } from './lib/plainLegs.js';
import { summarize } from './lib/stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  streams: number;
  rate: number;
  seconds: number;
  subscribers: number;
  cpuProf: string | undefined;
}

interface Cost {
  operations: number;
  errors: number;
  gatewayCpuPercent: number;
  gatewayUsPerOperation: number;
  workerUsPerOperation: number;
  p50: number;
  p99: number;
  max: number;
}

/** One measurement against a gateway started from `checkout`. */
async function measure(opts: Options, checkout: string | undefined): Promise<Cost> {
  const { streams, rate, seconds } = opts;
  const secret = randomBytes(24).toString('hex');
  const gateway = await startGatewayProcess(
    { MUTEGATE_MEDIA_NUM_WORKERS: '1', MUTEGATE_AUTH_HS256_SECRET: secret, MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true' },
    opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : [],
    checkout,
  );
  const token = await mintDevToken(secret, { role: 'app', subject: 'mute-cost' });
  const http = new MutegateHttp(gateway.url, { token });
  const sink = await loopbackSocket();
  const sender = await loopbackSocket();
  const subscribers: MutegateSocket[] = [];
  const socket = await MutegateSocket.connect(gateway.url, { token, WebSocket: WebSocket as unknown as WebSocketConstructor, requestTimeoutMs: 60_000 });
  let timer: NodeJS.Timeout | undefined;
  try {
    // Calls of two, as the full bench's background load: each leg streams to one listener.
    const legs = await joinPlainLegs(http, streams, { perCall: 2, receivePort: sink.address().port, subject: 'mute cost' });
    const call = { id: legs[0]!.callId };
    for (let i = 0; i < opts.subscribers; i++) {
      const s = await MutegateSocket.connect(gateway.url, { token, WebSocket: WebSocket as unknown as WebSocketConstructor });
      await s.subscribe(call.id);
      subscribers.push(s);
    }
    timer = streamPlainLegs(sender, legs);
    await sleep(1000);
    const workers = childPids(gateway.process.pid!);
    const cpu = () => ({ gateway: processCpuSeconds(gateway.process.pid!), workers: workers.reduce((s, p) => s + processCpuSeconds(p), 0) });

    // Baseline: the same load without operations.
    const idleFrom = cpu();
    await sleep(seconds * 1000);
    const idleTo = cpu();

    const muted = new Set<string>();
    const latencies: number[] = [];
    let errors = 0;
    const pending: Promise<void>[] = [];
    const total = Math.round(rate * seconds);
    const from = cpu();
    const startedAt = performance.now();
    for (let i = 0; i < total; i++) {
      const due = startedAt + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const leg = legs[i % legs.length]!;
      const mute = !muted.has(leg.id);
      if (mute) muted.add(leg.id);
      else muted.delete(leg.id);
      const sent = performance.now();
      pending.push(
        (mute ? socket.mute(leg.callId, leg.id) : socket.unmute(leg.callId, leg.id)).then(
          () => void latencies.push(performance.now() - sent),
          () => void errors++,
        ),
      );
    }
    await Promise.all(pending);
    const elapsed = (performance.now() - startedAt) / 1000;
    const to = cpu();
    const perOp = (key: 'gateway' | 'workers') => (((to[key] - from[key]) - (idleTo[key] - idleFrom[key]) * (elapsed / seconds)) / total) * 1e6;
    const s = summarize(latencies);
    return {
      operations: total,
      errors,
      gatewayCpuPercent: ((to.gateway - from.gateway) / elapsed) * 100,
      gatewayUsPerOperation: perOp('gateway'),
      workerUsPerOperation: perOp('workers'),
      p50: s.p50,
      p99: s.p99,
      max: s.max,
    };
  } finally {
    if (timer) clearInterval(timer);
    socket.close(1000);
    for (const s of subscribers) s.close(1000);
    sink.close();
    sender.close();
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '100' },
      rate: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '5' },
      subscribers: { type: 'string', default: '0' },
      rounds: { type: 'string', default: '1' },
      compare: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
    strict: true,
  });
  const opts: Options = {
    streams: Number(values.streams),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    subscribers: Number(values.subscribers),
    cpuProf: values['cpu-prof'],
  };
  for (const [name, n] of Object.entries({ streams: opts.streams, rate: opts.rate, seconds: opts.seconds, rounds: Number(values.rounds) })) {
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number`);
  }
  if (!Number.isInteger(opts.subscribers) || opts.subscribers < 0) throw new Error('--subscribers takes a whole number ≥ 0');
  const targets: [string, string | undefined][] = [['this checkout', undefined]];
  if (values.compare) targets.push([`--compare ${values.compare}`, resolve(values.compare)]);
  const results = new Map<string, Cost[]>(targets.map(([name]) => [name, []]));
  process.stdout.write(`N = ${opts.streams} streams, ${opts.rate} operations/s for ${opts.seconds} s over one WebSocket, S = ${opts.subscribers}; ${values.rounds} round(s), targets alternating\n`);
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, checkout] of targets) {
      const cost = await measure(opts, checkout);
      results.get(name)!.push(cost);
      process.stdout.write(
        `${name.padEnd(24)} gateway ${cost.gatewayCpuPercent.toFixed(1).padStart(5)} % of a core, ${cost.gatewayUsPerOperation.toFixed(0).padStart(4)} µs/op; worker ${cost.workerUsPerOperation.toFixed(0).padStart(3)} µs/op; ack p50 ${cost.p50.toFixed(2)} p99 ${cost.p99.toFixed(2)} max ${cost.max.toFixed(2)} ms; errors ${cost.errors}\n`,
      );
    }
  }
  if (Number(values.rounds) > 1 || targets.length > 1) {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    for (const [name, costs] of results) {
      process.stdout.write(
        `median ${name.padEnd(17)} gateway ${median(costs.map((c) => c.gatewayUsPerOperation)).toFixed(0)} µs/op, worker ${median(costs.map((c) => c.workerUsPerOperation)).toFixed(0)} µs/op, ack p50 ${median(costs.map((c) => c.p50)).toFixed(2)} / p99 ${median(costs.map((c) => c.p99)).toFixed(2)} ms\n`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`muteCost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
