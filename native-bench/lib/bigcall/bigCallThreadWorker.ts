/**
 * A big-call bench thread: its UDP sockets, the talkers that send from them, and (for the sampled
 * receivers) every probe packet that arrives. The bench runs two: one whose sockets are read
 * (the sampled receivers, which also talk) and one whose sockets discard (everyone else), so
 * sending and reading do not wait on each other. Same monotonic clock as the main thread (nowMs).
 */
import type { Socket } from 'node:dgram';
import { createSocket } from 'node:dgram';
import { decodeProbe, decodeRtp, encodeProbe } from '../rtp.js';
import { nowMs, type Address } from '../RtpPeer.js';
import { serveThread } from '../serveThread.js';
import { setOwnNice } from '../threadNice.js';
import { audioLevelExtension, encodeRtpWithExtension } from './audioLevel.js';
import { openDiscardSocket } from './discardSocket.js';

export interface TalkerSpec {
  senderId: number;
  ssrc: number;
  payloadType: number;
  /** Where the SFU receives this talker (its `media.send`). */
  to: Address;
  /** Which of this thread's sockets it sends from (and receives on). */
  socket: number;
  levelDbov: number;
  /** Keep the send time of every packet (mute victims: analyzeMute reads them). */
  record: boolean;
}

export interface SendSettings {
  packetsPerSecond: number;
  payloadBytes: number;
  audioLevelExtensionId: number;
}

export type BigCallCommand =
  | { op: 'open'; sockets: number; read: boolean }
  | { op: 'addTalkers'; talkers: TalkerSpec[]; settings: SendSettings }
  | { op: 'setLevel'; senderId: number; levelDbov: number }
  | { op: 'counters' }
  | { op: 'startRecording' }
  | { op: 'received' }
  | { op: 'sentTimes'; senderIds: number[] }
  | { op: 'stats' }
  | { op: 'nice'; nice: number | null }
  | { op: 'close' };

export interface ReceivedRecords {
  receiver: Uint16Array;
  senderId: Uint32Array;
  counter: Uint32Array;
  arrivedAtMs: Float64Array;
  sentAtMs: Float64Array;
}

interface Talker {
  spec: TalkerSpec;
  counter: number;
  seq: number;
  timestamp: number;
  nextAt: number;
  extension: Buffer;
  sentAt: number[] | null;
}

/** A talker that fell this far behind (a stalled loop) skips ahead instead of bursting. */
const MAX_CATCH_UP_MS = 100;

let sockets: Socket[] = [];
let talkers: Talker[] = [];
let settings: SendSettings | null = null;
let timer: NodeJS.Timeout | null = null;
let sent = 0;
let skipped = 0;
let datagrams = 0;
let recording = false;
const rec = { receiver: [] as number[], senderId: [] as number[], counter: [] as number[], arrivedAtMs: [] as number[], sentAtMs: [] as number[] };

function onMessage(slot: number, msg: Buffer): void {
  const arrivedAtMs = nowMs();
  datagrams++;
  if (!recording) return;
  const rtp = decodeRtp(msg);
  const probe = rtp && decodeProbe(rtp.payload);
  if (!probe) return;
  rec.receiver.push(slot);
  rec.senderId.push(probe.senderId);
  rec.counter.push(probe.counter);
  rec.arrivedAtMs.push(arrivedAtMs);
  rec.sentAtMs.push(probe.sentAtMs);
}

async function openReading(slot: number): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('message', (msg) => onMessage(slot, msg));
  return socket;
}

function extensionFor(levelDbov: number): Buffer {
  // Speech is louder than -30 dBov here: the V bit follows the level.
  return audioLevelExtension({ id: (settings as SendSettings).audioLevelExtensionId, levelDbov, voice: levelDbov <= 30 });
}

function sendOne(t: Talker, s: SendSettings): void {
  const sentAtMs = nowMs();
  if (t.sentAt) t.sentAt[t.counter] = sentAtMs;
  const payload = encodeProbe({ senderId: t.spec.senderId, counter: t.counter++, sentAtMs }, s.payloadBytes);
  t.seq = (t.seq + 1) & 0xffff;
  t.timestamp = (t.timestamp + Math.round(48000 / s.packetsPerSecond)) >>> 0;
  const packet = encodeRtpWithExtension({ payloadType: t.spec.payloadType, sequenceNumber: t.seq, timestamp: t.timestamp, ssrc: t.spec.ssrc, marker: false, payload }, t.extension);
  (sockets[t.spec.socket] as Socket).send(packet, t.spec.to.port, t.spec.to.ip);
  sent++;
}

/** Every talker sends on its own schedule (a random phase), checked every millisecond. */
function tick(): void {
  const s = settings as SendSettings;
  const interval = 1000 / s.packetsPerSecond;
  const now = nowMs();
  for (const t of talkers) {
    if (now - t.nextAt > MAX_CATCH_UP_MS) {
      const behind = Math.floor((now - t.nextAt) / interval);
      skipped += behind;
      t.nextAt += behind * interval;
    }
    while (t.nextAt <= now) {
      sendOne(t, s);
      t.nextAt += interval;
    }
  }
}

async function handle(cmd: BigCallCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'open': {
      if (cmd.read) {
        sockets = await Promise.all(Array.from({ length: cmd.sockets }, (_, slot) => openReading(slot)));
        return { addresses: sockets.map((s) => ({ ip: s.address().address, port: s.address().port })), reading: true };
      }
      const opened = await Promise.all(Array.from({ length: cmd.sockets }, () => openDiscardSocket()));
      sockets = opened.map((o) => o.socket);
      return { addresses: sockets.map((s) => ({ ip: s.address().address, port: s.address().port })), reading: opened.some((o) => o.reading) };
    }
    case 'addTalkers': {
      settings = cmd.settings;
      const interval = 1000 / cmd.settings.packetsPerSecond;
      const now = nowMs();
      for (const spec of cmd.talkers) {
        talkers.push({
          spec,
          counter: 0,
          seq: Math.floor(Math.random() * 0xffff),
          timestamp: Math.floor(Math.random() * 0xffffffff),
          nextAt: now + Math.random() * interval,
          extension: extensionFor(spec.levelDbov),
          sentAt: spec.record ? [] : null,
        });
      }
      timer ??= setInterval(tick, 1);
      return null;
    }
    case 'setLevel': {
      const t = talkers.find((x) => x.spec.senderId === cmd.senderId);
      if (t) t.extension = extensionFor(cmd.levelDbov);
      return null;
    }
    case 'counters':
      return talkers.map((t) => [t.spec.senderId, t.counter]);
    case 'startRecording':
      recording = true;
      return null;
    case 'received':
      return {
        receiver: Uint16Array.from(rec.receiver),
        senderId: Uint32Array.from(rec.senderId),
        counter: Uint32Array.from(rec.counter),
        arrivedAtMs: Float64Array.from(rec.arrivedAtMs),
        sentAtMs: Float64Array.from(rec.sentAtMs),
      } satisfies ReceivedRecords;
    case 'sentTimes':
      return cmd.senderIds.map((id) => [id, Float64Array.from(talkers.find((t) => t.spec.senderId === id)?.sentAt ?? [])]);
    case 'stats':
      return { sent, skipped, datagrams };
    case 'nice':
      return setOwnNice(cmd.nice);
    case 'close':
      if (timer) clearInterval(timer);
      timer = null;
      for (const s of sockets) s.close();
      sockets = [];
      talkers = [];
      return null;
  }
}

serveThread(handle);
