/**
 * Plain-RTP legs for the small cost tools (muteCost, mutedCost, streamChurnCost, rosterReadCost):
 * joined by the application into calls of a given size, each receiving into one sink socket, and
 * a stream of 50 packets/s per leg sent from one socket of this process.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { MutegateHttp } from '../../src/client/index.js';
import { audioLevelExtension, encodeRtpWithExtension } from './bigcall/audioLevel.js';
import { encodeProbe, encodeRtp } from './rtp.js';

export interface PlainLeg {
  callId: string;
  id: string;
  ssrc: number;
  /** The gateway's port for this leg's RTP. */
  port: number;
}

/** A UDP socket bound on 127.0.0.1 (an ephemeral port). */
export async function loopbackSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

/**
 * `count` legs (users talker-0 …) in calls of `perCall` created as they are needed, each receiving
 * into `receivePort`; with `audioLevelExtensionId` they announce the RFC 6464 audio level.
 */
export async function joinPlainLegs(
  http: MutegateHttp,
  count: number,
  opts: { perCall: number; receivePort: number; subject: string; audioLevelExtensionId?: number },
): Promise<PlainLeg[]> {
  const legs: PlainLeg[] = [];
  let callId = '';
  for (let i = 0; i < count; i++) {
    if (i % opts.perCall === 0) callId = ((await http.createCall({ subject: `${opts.subject} ${i / opts.perCall}` })).body as { id: string }).id;
    const ssrc = 0x10000 + i;
    const leg = (await http.joinParticipant(callId, {
      info: { identity: { user: { id: `talker-${i}` } } },
      media: {
        kind: 'rtp',
        payloadType: 100,
        ssrc,
        ...(opts.audioLevelExtensionId !== undefined ? { audioLevelExtensionId: opts.audioLevelExtensionId } : {}),
        receive: { ip: '127.0.0.1', port: opts.receivePort },
      },
    })).body as { id: string; media: { send: { port: number } } };
    legs.push({ callId, id: leg.id, ssrc, port: leg.media.send.port });
  }
  return legs;
}

/**
 * Every leg streams 50 packets/s (one per 20 ms, the legs spread over four 5 ms ticks) of
 * speech-sized payloads; with `levelOf` each packet carries that leg's audio level (leg index →
 * -dBov). A leg's `ssrc` is read at every packet, so a caller may change it. Returns the timer.
 */
export function streamPlainLegs(sender: Socket, legs: PlainLeg[], levelOf?: { extensionId: number; dbov: (index: number) => number }): NodeJS.Timeout {
  let tick = 0;
  const sent = legs.map(() => 0);
  return setInterval(() => {
    tick++;
    for (let i = tick % 4; i < legs.length; i += 4) {
      const leg = legs[i]!;
      const n = ++sent[i]!;
      const packet = { payloadType: 100, sequenceNumber: n & 0xffff, timestamp: (n * 960) >>> 0, ssrc: leg.ssrc, marker: false, payload: encodeProbe({ senderId: i, counter: n, sentAtMs: 0 }) };
      if (!levelOf) {
        sender.send(encodeRtp(packet), leg.port, '127.0.0.1');
        continue;
      }
      const dbov = levelOf.dbov(i);
      sender.send(encodeRtpWithExtension(packet, audioLevelExtension({ id: levelOf.extensionId, levelDbov: dbov, voice: dbov < 127 })), leg.port, '127.0.0.1');
    }
  }, 5);
}
