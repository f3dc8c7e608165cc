/**
 * What one participant replacing its send stream in a loop costs everyone else in a large call:
 * a gateway started here (default workers), one call of P plain-RTP talkers (50 packets/s each,
 * the RFC 6464 audio level in every packet: 3 loud, the rest silent), and mutes and unmutes of
 * the others over one WebSocket (one mute every ~50 ms), measured in windows without and with the
 * churn (alternating). The churn is `PATCH …/participants/{id}` with a new SSRC at `--rate` per
 * second, sent with the application token, which is not held to a participant's limits: it shows
 * what a participant could do if only limits.ownRequestsPerSecond (10) held it (now its own
 * stream changes are also held to limits.ownMediaChangesPerMinute). Reports the mute ack p50 /
 * p99 / max and the gateway's and workers' CPU (from /proc) in each window:
 *
 *   node --import tsx native-bench/streamChurnCost.ts [--talkers 150] [--rate 10] [--seconds 10]
 *                     [--forwarding speakers|all] [--rounds 2]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintDevToken } from '../src/api/auth/devTokens.js';
import { MutegateHttp, MutegateSocket, type WebSocketConstructor } from '../src/client/index.js';
import { startGatewayProcess } from './lib/gatewayProcess.js';
import { childPids, processCpuSeconds } from './lib/procCpu.js';
import { joinPlainLegs, loopbackSocket, streamPlainLegs } from './lib/plainLegs.js';
import { summarize } from './lib/stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AUDIO_LEVEL_ID = 1;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      talkers: { type: 'string', default: '150' },
      rate: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '10' },
      forwarding: { type: 'string', default: 'speakers' },
      rounds: { type: 'string', default: '2' },
    },
    strict: true,
  });
  const talkers = Number(values.talkers);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  for (const [name, n] of Object.entries({ talkers, rate, seconds, rounds })) {
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number`);
  }
  if (talkers < 3) throw new Error('--talkers takes at least 3');
  if (values.forwarding !== 'speakers' && values.forwarding !== 'all') throw new Error('--forwarding is speakers or all');
  const secret = randomBytes(24).toString('hex');
  const gateway = await startGatewayProcess({
    MUTEGATE_AUTH_HS256_SECRET: secret,
    MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true',
    MUTEGATE_MEDIA_FORWARDING_MODE: values.forwarding,
  });
  const sink = await loopbackSocket();
  const sender = await loopbackSocket();
  let socket: MutegateSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const token = await mintDevToken(secret, { role: 'app', subject: 'stream-churn-cost' });
    const http = new MutegateHttp(gateway.url, { token });
    const legs = await joinPlainLegs(http, talkers, { perCall: talkers, receivePort: sink.address().port, subject: 'stream churn cost', audioLevelExtensionId: AUDIO_LEVEL_ID });
    const callId = legs[0]!.callId;
    socket = await MutegateSocket.connect(gateway.url, { token, WebSocket: WebSocket as unknown as WebSocketConstructor, requestTimeoutMs: 60_000 });
    // 3 loud talkers, the rest silent: speaker-aware forwarding forwards the 3.
    timer = streamPlainLegs(sender, legs, { extensionId: AUDIO_LEVEL_ID, dbov: (k) => (k < 3 ? 20 : 127) });
    await sleep(1500);
    const workers = childPids(gateway.process.pid!);
    const churner = legs[talkers - 1]!; // a silent one
    process.stdout.write(`P = ${talkers} talkers (${values.forwarding}), churn ${rate} new streams/s, ${seconds} s windows, ${rounds} round(s)\n`);
    for (let round = 0; round < rounds; round++) {
      for (const churn of [false, true]) {
        const latencies: number[] = [];
        let accepted = 0;
        let refused = 0;
        const g0 = processCpuSeconds(gateway.process.pid!);
        const w0 = workers.reduce((s, p) => s + processCpuSeconds(p), 0);
        const end = performance.now() + seconds * 1000;
        const churning = (async () => {
          for (let k = 0; churn && performance.now() < end; k++) {
            const began = performance.now();
            const ssrc = 0x200000 + ((round * 100_000 + k) % 0xffff);
            const res = await http.updateParticipant(callId, churner.id, { media: { payloadType: 100, ssrc, audioLevelExtensionId: AUDIO_LEVEL_ID } }).catch(() => null);
            if (res?.status === 200) {
              accepted++;
              churner.ssrc = ssrc;
            } else refused++;
            await sleep(Math.max(0, 1000 / rate - (performance.now() - began)));
          }
        })();
        for (let i = 0; performance.now() < end; i++) {
          const leg = legs[3 + (i % (talkers - 4))]!;
          const began = performance.now();
          await socket.mute(callId, leg.id);
          latencies.push(performance.now() - began);
          await socket.unmute(callId, leg.id);
          await sleep(50);
        }
        await churning;
        const gateway_ = processCpuSeconds(gateway.process.pid!) - g0;
        const workers_ = workers.reduce((s, p) => s + processCpuSeconds(p), 0) - w0;
        const s = summarize(latencies);
        process.stdout.write(
          `${churn ? `churn (${accepted} new streams, ${refused} refused)` : 'no churn'}`.padEnd(40) +
            `mute ack p50 ${s.p50.toFixed(2)} / p99 ${s.p99.toFixed(2)} / max ${s.max.toFixed(2)} ms (${latencies.length}); gateway ${((gateway_ / seconds) * 100).toFixed(0)} %, workers ${((workers_ / seconds) * 100).toFixed(0)} % of a core\n`,
        );
      }
    }
  } finally {
    if (timer) clearInterval(timer);
    socket?.close(1000);
    sink.close();
    sender.close();
    await gateway.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`streamChurnCost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
