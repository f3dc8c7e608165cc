/**
 * What muted participants cost the gateway when nothing happens: a gateway started here (one
 * worker), N plain-RTP participants in calls of `--per-call`, each streaming 50 packets/s, and
 * the gateway's and the worker's CPU (from /proc) over a window with everyone unmuted, then over
 * the same window with everyone muted (no API request during either window). The difference is
 * what the gateway does for muted participants on its own (talking-while-muted readings):
 *
 *   node --import tsx native-bench/mutedCost.ts [--streams 1000] [--per-call 2] [--seconds 5]
 *                     [--rounds 1] [--compare DIR]
 *
 * --compare DIR: another checkout of mutegate (e.g. `git worktree add /tmp/before HEAD~1`, with
 * node_modules linked in) measured in the same run, alternating with this one round by round.
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  streams: number;
  perCall: number;
  seconds: number;
}

/** Percent of one core over a window, gateway process and its worker(s). */
interface Cpu {
  gateway: number;
  workers: number;
}

async function measure(opts: Options, checkout: string | undefined): Promise<{ unmuted: Cpu; muted: Cpu }> {
  const secret = randomBytes(24).toString('hex');
  const gateway = await startGatewayProcess(
    { MUTEGATE_MEDIA_NUM_WORKERS: '1', MUTEGATE_AUTH_HS256_SECRET: secret, MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true' },
    [],
    checkout,
  );
  const sink = await loopbackSocket();
  const sender = await loopbackSocket();
  let socket: MutegateSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const token = await mintDevToken(secret, { role: 'app', subject: 'muted-cost' });
    const http = new MutegateHttp(gateway.url, { token });
    const legs = await joinPlainLegs(http, opts.streams, { perCall: opts.perCall, receivePort: sink.address().port, subject: 'muted cost' });
    socket = await MutegateSocket.connect(gateway.url, { token, WebSocket: WebSocket as unknown as WebSocketConstructor, requestTimeoutMs: 60_000 });
    // Speech-sized packets: muted, these legs read as talking (the readings are what this measures).
    timer = streamPlainLegs(sender, legs);
    const workers = childPids(gateway.process.pid!);
    const window = async (): Promise<Cpu> => {
      await sleep(1500); // settle after what came before (joins, mutes)
      const read = () => ({ gateway: processCpuSeconds(gateway.process.pid!), workers: workers.reduce((s, p) => s + processCpuSeconds(p), 0) });
      const from = read();
      await sleep(opts.seconds * 1000);
      const to = read();
      return { gateway: ((to.gateway - from.gateway) / opts.seconds) * 100, workers: ((to.workers - from.workers) / opts.seconds) * 100 };
    };
    const unmuted = await window();
    for (let i = 0; i < legs.length; i += 50) await Promise.all(legs.slice(i, i + 50).map((l) => socket!.mute(l.callId, l.id)));
    const muted = await window();
    return { unmuted, muted };
  } finally {
    if (timer) clearInterval(timer);
    socket?.close(1000);
    sink.close();
    sender.close();
    await gateway.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '1000' },
      'per-call': { type: 'string', default: '2' },
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '1' },
      compare: { type: 'string' },
    },
    strict: true,
  });
  const opts: Options = { streams: Number(values.streams), perCall: Number(values['per-call']), seconds: Number(values.seconds) };
  const rounds = Number(values.rounds);
  for (const [name, n] of Object.entries({ streams: opts.streams, 'per-call': opts.perCall, seconds: opts.seconds, rounds })) {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} takes a whole number > 0`);
  }
  const targets: [string, string | undefined][] = [['this checkout', undefined]];
  if (values.compare) targets.push([`--compare ${values.compare}`, resolve(values.compare)]);
  process.stdout.write(`N = ${opts.streams} streams in calls of ${opts.perCall}, 50 packets/s each, ${opts.seconds} s windows, no API requests in them; ${rounds} round(s)\n`);
  const pct = (x: number) => `${x.toFixed(1).padStart(5)} %`;
  for (let round = 0; round < rounds; round++) {
    for (const [name, checkout] of targets) {
      const { unmuted, muted } = await measure(opts, checkout);
      process.stdout.write(
        `${name.padEnd(24)} all unmuted: gateway ${pct(unmuted.gateway)}, worker ${pct(unmuted.workers)}; all muted: gateway ${pct(muted.gateway)}, worker ${pct(muted.workers)} (of one core)\n`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`mutedCost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
