/**
 * A mute under load, against mediasoup alone (no gateway): one router, P plain-RTP talkers at
 * 50 packets/s, everyone consuming everyone (P × (P − 1) consumers), and M mutes
 * (`producer.pause()` timed from the request to the worker's confirmation) while it runs. This is
 * the worker-side half of issue 13's "the mute waits behind media": it shows how long the pause
 * takes when the worker is saturated, and how many notifications (`score` events) reached Node
 * between the request and its reply, i.e. what the reply was queued behind.
 *
 *   node --import tsx native-bench/muteUnderLoad.ts --talkers 50,65 [--mutes 20] [--warmup 8]
 *        [--worker-bin PATH] [--out FILE.json]
 *
 * Topology per talker: a comedia PlainTransport it sends to, and a second PlainTransport for what
 * it receives. Two receivers are sampled (their audio comes back to this process, to measure
 * one-way latency and leaks); every other receive transport sends to one UDP socket of a helper
 * process that never reads it (the kernel drops what does not fit), so the load generator does
 * not have to read P² packets per second. RTP is sent and received in a worker thread; this
 * thread only drives mediasoup and times the mutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Worker as Thread } from 'node:worker_threads';
import { cachedWorkerBinaryPath } from '../src/media/workerBinary.js';
import { processCpuSeconds } from './lib/procCpu.js';

interface Args {
  talkers: number[];
  mutes: number;
  warmupS: number;
  workerBin: string;
  out: string | null;
  /**
   * Consumers with mediasoup's `rtp` trace event on: each forwarded packet becomes a notification
   * to Node, a storm of a known rate (50/s per consumer) instead of waiting for score changes.
   */
  traceConsumers: number;
  /**
   * Before each mute, ask this many consumers for their stats at once (a monitoring scrape): the
   * worker answers them in one loop turn, more than the pipe to Node holds, so the rest queues.
   */
  statsBurst: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { talkers: [50, 65], mutes: 20, warmupS: 8, workerBin: process.env.MEDIASOUP_WORKER_BIN || cachedWorkerBinaryPath(), out: null, traceConsumers: 0, statsBurst: 0 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--talkers':
        args.talkers = v.split(',').map(Number);
        i++;
        break;
      case '--mutes':
        args.mutes = Number(v);
        i++;
        break;
      case '--warmup':
        args.warmupS = Number(v);
        i++;
        break;
      case '--worker-bin':
        args.workerBin = v;
        i++;
        break;
      case '--stats-burst':
        args.statsBurst = Number(v);
        i++;
        break;
      case '--trace-consumers':
        args.traceConsumers = Number(v);
        i++;
        break;
      case '--out':
        args.out = v;
        i++;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return args;
}

/** The RTP thread: P talkers (one socket each) and the sampled receivers. Plain JS, evaluated. */
const RTP_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const now = () => performance.timeOrigin + performance.now();
const { talkers, receivers } = workerData;
const sockets = [];
const received = [];
let stopped = false;
async function bind() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  return s;
}
(async () => {
  for (let i = 0; i < talkers; i++) sockets.push(await bind());
  const rx = [];
  for (let r = 0; r < receivers; r++) {
    const s = await bind();
    s.on('message', (msg) => {
      // The SFU may add header extensions: the payload starts after them.
      let at = 12 + 4 * (msg[0] & 0x0f);
      if (msg[0] & 0x10) at += 4 + 4 * msg.readUInt16BE(at + 2);
      if (msg.length < at + 16) return;
      received.push(r, msg.readUInt32BE(at + 8), msg.readDoubleBE(at), now());
    });
    rx.push(s.address().port);
  }
  parentPort.postMessage({ type: 'ready', talkerPorts: sockets.map((s) => s.address().port), receiverPorts: rx });
  parentPort.on('message', (m) => {
    if (m.type === 'start') {
      const sent = new Array(talkers).fill(0);
      m.sendTo.forEach((port, i) => {
        let seq = 0, ts = 0;
        const send = () => {
          if (stopped) return;
          const b = Buffer.alloc(12 + 80);
          b[0] = 0x80; b[1] = 100; b.writeUInt16BE(seq++ & 0xffff, 2); b.writeUInt32BE((ts += 960) >>> 0, 4); b.writeUInt32BE(1000 + i, 8);
          b.writeDoubleBE(now(), 12); b.writeUInt32BE(i, 20); b.writeUInt32BE(sent[i]++, 24);
          sockets[i].send(b, port, '127.0.0.1');
        };
        setTimeout(() => { send(); setInterval(send, 20); }, Math.random() * 20);
      });
      parentPort.once('message', () => {
        stopped = true;
        parentPort.postMessage({ type: 'done', sent, received: Float64Array.from(received) });
      });
    }
  });
})();
`;

interface MuteSample {
  talker: number;
  requestedAt: number;
  /** null: no confirmation within the client timeout. */
  ackMs: number | null;
  ackedAt: number | null;
  resumeRequestedAt: number;
  /** Notifications (score events) Node received between the request and the confirmation. */
  notificationsBeforeAck: number;
}

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLIENT_TIMEOUT_MS = 30_000;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** A UDP port whose socket is never read: receive transports that are not sampled send there. */
function blackhole(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn('python3', ['-c', "import socket,sys,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('127.0.0.1',0))\nprint(s.getsockname()[1],flush=True)\ntime.sleep(3600)"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    proc.stdout?.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), proc }));
    proc.once('error', reject);
  });
}

async function runOne(P: number, args: Args): Promise<Record<string, unknown>> {
  const mediasoup = await import('mediasoup');
  const worker = await mediasoup.createWorker({ logLevel: 'error', rtcMinPort: 30000, rtcMaxPort: 34999 });
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  const hole = await blackhole();
  const RECEIVERS = 2;
  const thread = new Thread(RTP_THREAD, { eval: true, workerData: { talkers: P, receivers: RECEIVERS } });
  const ready = await new Promise<{ talkerPorts: number[]; receiverPorts: number[] }>((r) => thread.once('message', r));

  let notifications = 0;
  const setupStart = nowMs();
  const producers: import('mediasoup').types.Producer[] = [];
  const recvTransports: import('mediasoup').types.PlainTransport[] = [];
  const sendTo: number[] = [];
  for (let i = 0; i < P; i++) {
    const send = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
    sendTo.push(send.tuple.localPort);
    const producer = await send.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 100 }], encodings: [{ ssrc: 1000 + i }] },
    });
    producer.on('score', () => notifications++);
    producers.push(producer);
    const recv = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: false });
    await recv.connect({ ip: '127.0.0.1', port: i < RECEIVERS ? (ready.receiverPorts[i] as number) : hole.port });
    recvTransports.push(recv);
  }
  let traced = 0;
  const consumers: import('mediasoup').types.Consumer[] = [];
  const caps = { codecs: [{ kind: 'audio' as const, mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 100 }], headerExtensions: [] };
  for (let r = 0; r < P; r++) {
    for (let s = 0; s < P; s++) {
      if (s === r) continue;
      const consumer = await (recvTransports[r] as import('mediasoup').types.PlainTransport).consume({ producerId: (producers[s] as import('mediasoup').types.Producer).id, rtpCapabilities: caps });
      consumer.on('score', () => notifications++);
      consumer.on('trace', () => notifications++);
      consumers.push(consumer);
      if (traced < args.traceConsumers) {
        traced++;
        await consumer.enableTraceEvent(['rtp']);
      }
    }
  }
  const setupMs = nowMs() - setupStart;

  thread.postMessage({ type: 'start', sendTo });
  await sleep(args.warmupS * 1000);
  const cpu0 = processCpuSeconds(worker.pid);
  const t0 = nowMs();
  const notes0 = notifications;
  const mutes: MuteSample[] = [];
  for (let m = 0; m < args.mutes; m++) {
    // The muted talker is never a sampled receiver, so its packets reach both of them.
    const talker = RECEIVERS + (m % (P - RECEIVERS));
    const producer = producers[talker] as import('mediasoup').types.Producer;
    const notesAt = notifications;
    for (const c of consumers.slice(0, args.statsBurst)) c.getStats().catch(() => undefined);
    const requestedAt = nowMs();
    const acked = await Promise.race([producer.pause().then(() => nowMs()), sleep(CLIENT_TIMEOUT_MS).then(() => null)]);
    const sample: MuteSample = {
      talker,
      requestedAt,
      ackMs: acked === null ? null : acked - requestedAt,
      ackedAt: acked,
      resumeRequestedAt: 0,
      notificationsBeforeAck: notifications - notesAt,
    };
    await sleep(400);
    sample.resumeRequestedAt = nowMs();
    await Promise.race([producer.resume(), sleep(CLIENT_TIMEOUT_MS)]);
    mutes.push(sample);
    await sleep(300);
  }
  const windowS = (nowMs() - t0) / 1000;
  const workerCpu = (processCpuSeconds(worker.pid) - cpu0) / windowS;
  const notesPerS = (notifications - notes0) / windowS;

  thread.postMessage({ type: 'stop' });
  const done = await new Promise<{ sent: number[]; received: Float64Array }>((r) =>
    thread.on('message', (m: { type: string; sent: number[]; received: Float64Array }) => {
      if (m.type === 'done') r(m);
    }),
  );
  await thread.terminate();
  hole.proc.kill('SIGTERM');
  worker.close();

  // Received records: [receiver, sender, sentAt, receivedAt] × n. Latency over the mute window.
  const latencies: number[] = [];
  let leaks = 0;
  let receivedInWindow = 0;
  for (let i = 0; i < done.received.length; i += 4) {
    const sender = done.received[i + 1] as number;
    const sentAt = done.received[i + 2] as number;
    const receivedAt = done.received[i + 3] as number;
    if (sentAt >= t0) {
      latencies.push(receivedAt - sentAt);
      receivedInWindow++;
    }
    for (const m of mutes) {
      // As the bench counts it: sent after the confirmation arrived, forwarded before the resume was asked.
      if (m.talker === sender && m.ackedAt !== null && sentAt > m.ackedAt && receivedAt < m.resumeRequestedAt) leaks++;
    }
  }
  latencies.sort((a, b) => a - b);
  const acks = mutes.map((m) => m.ackMs).filter((x): x is number => x !== null).sort((a, b) => a - b);
  // What the sampled receivers should get: every other talker's 50 packets/s, less the muted spans.
  const mutedS = mutes.reduce((sum, m) => sum + (m.resumeRequestedAt - m.requestedAt) / 1000, 0);
  const expected = RECEIVERS * 50 * ((P - 1) * windowS - mutedS);
  const result = {
    talkers: P,
    consumers: P * (P - 1),
    tracedConsumers: traced,
    statsBurst: args.statsBurst,
    setupS: Math.round(setupMs) / 1000,
    workerCpuPercent: Math.round(workerCpu * 1000) / 10,
    oneWayMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    deliveryPercent: Math.round((1000 * receivedInWindow) / expected) / 10,
    muteAckMs: { p50: quantile(acks, 0.5), p99: quantile(acks, 0.99), max: acks[acks.length - 1] ?? NaN, unanswered: mutes.length - acks.length },
    notificationsPerS: Math.round(notesPerS),
    notificationsBeforeAck: { max: Math.max(...mutes.map((m) => m.notificationsBeforeAck)), median: quantile(mutes.map((m) => m.notificationsBeforeAck).sort((a, b) => a - b), 0.5) },
    leakAfterAck: leaks,
  };
  return result;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // mediasoup reads the binary's path once, when its module is first evaluated.
  process.env.MEDIASOUP_WORKER_BIN = args.workerBin;
  const results: Record<string, unknown>[] = [];
  for (const P of args.talkers) {
    const r = await runOne(P, args);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  if (args.out) writeFileSync(args.out, JSON.stringify({ workerBin: args.workerBin, when: new Date().toISOString(), results }, null, 2));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
