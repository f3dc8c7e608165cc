/**
 * What one participant asking for the whole roster over and over costs everyone else: a gateway
 * started here, one call of P plain-RTP participants (speaker-aware forwarding, no media sent),
 * an application muting and unmuting them over one WebSocket (one mute every ~50 ms), and one
 * participant token's WebSocket asking `resync` as fast as it reads the answers (4 in flight),
 * in 5 s windows without, with and again without it. Reports the answers the attacker's socket
 * got (snapshots, and the roster deltas of the mutes: ~170 per window without a flood), the
 * refusals, the mute ack p50 / p99 / max and the gateway's CPU (from /proc) per window:
 *
 *   node --import tsx native-bench/rosterReadCost.ts [--participants 200] [--limits on|off]
 *
 * --limits off raises limits.rosterReadsPerSecond and limits.requestsPerSecond out of reach: what
 * the flood cost before those limits (on: the gateway's defaults, which close the flooding
 * WebSocket).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintDevToken } from '../src/api/auth/devTokens.js';
import { MutegateHttp, MutegateSocket, type WebSocketConstructor } from '../src/client/index.js';
import { startGatewayProcess } from './lib/gatewayProcess.js';
import { processCpuSeconds } from './lib/procCpu.js';
import { summarize } from './lib/stats.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WINDOW_MS = 5000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { participants: { type: 'string', default: '200' }, limits: { type: 'string', default: 'on' } }, strict: true });
  const participants = Number(values.participants);
  if (!Number.isInteger(participants) || participants < 2) throw new Error('--participants takes a whole number ≥ 2');
  if (values.limits !== 'on' && values.limits !== 'off') throw new Error('--limits is on or off');
  const secret = randomBytes(24).toString('hex');
  const gateway = await startGatewayProcess({
    MUTEGATE_AUTH_HS256_SECRET: secret,
    MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true',
    MUTEGATE_MEDIA_FORWARDING_MODE: 'speakers',
    ...(values.limits === 'off' ? { MUTEGATE_LIMITS_ROSTER_READS_PER_SECOND: '100000', MUTEGATE_LIMITS_REQUESTS_PER_SECOND: '1000000' } : {}),
  });
  let socket: MutegateSocket | undefined;
  let attacker: WebSocket | undefined;
  try {
    const token = await mintDevToken(secret, { role: 'app', subject: 'roster-read-cost' });
    const http = new MutegateHttp(gateway.url, { token });
    const callId = ((await http.createCall({ subject: 'roster read cost' })).body as { id: string }).id;
    const legs: string[] = [];
    for (let i = 0; i < participants; i++) {
      const leg = (await http.joinParticipant(callId, {
        info: { identity: { user: { id: `person-${i}`, displayName: `Person number ${i}` } } },
        media: { kind: 'rtp', payloadType: 100, ssrc: 0x10000 + i, audioLevelExtensionId: 1, receive: { ip: '127.0.0.1', port: 9 + 20000 } },
      })).body as { id: string };
      legs.push(leg.id);
    }
    socket = await MutegateSocket.connect(gateway.url, { token, WebSocket: WebSocket as unknown as WebSocketConstructor, requestTimeoutMs: 60_000 });
    const attackerToken = await mintDevToken(secret, { role: 'participant', subject: 'person-0', call: callId });
    const ws = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/ws`, 'mutegate.v1.json', { headers: { authorization: `Bearer ${attackerToken}` } });
    attacker = ws;
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let answers = 0;
    let refused = 0;
    let bytes = 0;
    ws.on('message', (data: Buffer) => {
      answers++;
      bytes += data.length;
      if (data.includes('tooManyRosterReads')) refused++;
    });
    ws.send(JSON.stringify({ type: 'subscribe', requestId: 'subscribe', callId }));
    await sleep(500);
    process.stdout.write(`P = ${participants} participants, request limits ${values.limits}, ${WINDOW_MS / 1000} s windows\n`);
    for (const flood of [false, true, false]) {
      const [a0, r0, b0] = [answers, refused, bytes];
      const g0 = processCpuSeconds(gateway.process.pid!);
      const end = performance.now() + WINDOW_MS;
      let stop = false;
      const flooding = (async () => {
        for (let k = 0; flood && !stop && ws.readyState === ws.OPEN; ) {
          const before = answers;
          for (let i = 0; i < 4; i++) ws.send(JSON.stringify({ type: 'resync', requestId: `r${k++}`, callId }));
          while (answers < before + 4 && !stop) await new Promise((r) => setImmediate(r));
        }
      })();
      const latencies: number[] = [];
      for (let i = 0; performance.now() < end; i++) {
        const began = performance.now();
        await socket.mute(callId, legs[1 + (i % (participants - 1))]!);
        latencies.push(performance.now() - began);
        await socket.unmute(callId, legs[1 + (i % (participants - 1))]!);
        await sleep(50);
      }
      stop = true;
      await flooding;
      const cpu = ((processCpuSeconds(gateway.process.pid!) - g0) / (WINDOW_MS / 1000)) * 100;
      const s = summarize(latencies);
      const got = answers - a0 - (refused - r0);
      process.stdout.write(
        `${flood ? 'resync flood' : 'no flood'}`.padEnd(14) +
          `answers to the attacker ${got} (${((bytes - b0) / (WINDOW_MS / 1000) / 1e6).toFixed(1)} MB/s), refused ${refused - r0}, its socket ${ws.readyState === ws.OPEN ? 'open' : 'closed'}; mute ack p50 ${s.p50.toFixed(2)} / p99 ${s.p99.toFixed(2)} / max ${s.max.toFixed(2)} ms; gateway ${cpu.toFixed(0)} % of a core\n`,
      );
    }
  } finally {
    attacker?.close();
    socket?.close(1000);
    await gateway.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`rosterReadCost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
