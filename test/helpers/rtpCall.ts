import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { RtpPeer, type Address } from '../../native-bench/lib/RtpPeer.js';
import { SrtpEndpointCodec } from '../../native-bench/lib/srtp.js';
import type { SrtpCryptoSuite, SrtpKeys, SrtpRequest } from '../../src/control/mediaPlane.js';
import type { apiClient } from './gateway.js';

type Api = ReturnType<typeof apiClient>;

let nextSenderId = 1;
let nextSsrc = 0x1000;

export const PAYLOAD_TYPE = 100;
export const PACKET_INTERVAL_MS = 20;

/** A plain-RTP participant driven by a real UDP socket on 127.0.0.1. */
export interface RtpParticipant {
  id: string;
  userId: string;
  peer: RtpPeer;
  ssrc: number;
  send: Address;
  /** The leg's SRTP keys as the join answered them (null for plain RTP); `peer.srtp` uses them. */
  srtp: SrtpKeys | null;
  /** Streams 20 ms Opus-sized probe packets to the SFU. */
  startStreaming(): void;
}

export interface JoinRtpOptions {
  userId?: string;
  peer?: RtpPeer;
  /**
   * Join with SRTP and let the gateway learn the peer's address from its first authenticated
   * packet (latching, no `receive`). A suite alone lets the gateway generate the send key.
   * Without it the peer joins with plain RTP and an explicit `receive` (its own address), which
   * the application token of the tests may do.
   */
  srtp?: SrtpCryptoSuite | SrtpRequest;
  /**
   * Declares that the packets carry the RFC 6464 audio level under this one-byte extension id
   * (set `peer.audioLevel` to the level to send; speaker-aware forwarding ranks by it).
   */
  audioLevelExtensionId?: number;
}

export async function joinRtp(api: Api, callId: string, opts: JoinRtpOptions = {}): Promise<RtpParticipant> {
  const peer = opts.peer ?? (await RtpPeer.open(nextSenderId++));
  const userId = opts.userId ?? randomUUID();
  const ssrc = nextSsrc++;
  const srtp = typeof opts.srtp === 'string' ? { cryptoSuite: opts.srtp } : opts.srtp;
  const res = await api.post(`/communications/calls/${callId}/participants`, {
    '@odata.type': '#microsoft.graph.invitationParticipantInfo',
    info: { identity: { user: { id: userId, displayName: `user ${userId.slice(0, 8)}` } } },
    media: {
      kind: 'rtp',
      payloadType: PAYLOAD_TYPE,
      ssrc,
      ...(srtp ? { srtp } : { receive: peer.address }),
      ...(opts.audioLevelExtensionId !== undefined ? { audioLevelExtensionId: opts.audioLevelExtensionId } : {}),
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const send = res.body.media.send as Address;
  const keys = (res.body.media.srtp ?? null) as SrtpKeys | null;
  if (srtp) {
    expect(keys, 'SRTP keys in the join answer').toMatchObject({ cryptoSuite: srtp.cryptoSuite });
    peer.srtp = new SrtpEndpointCodec(keys as SrtpKeys);
  }
  return {
    id: res.body.id,
    userId,
    peer,
    ssrc,
    send,
    srtp: keys,
    startStreaming: () => peer.start({ to: send, payloadType: PAYLOAD_TYPE, ssrc, intervalMs: PACKET_INTERVAL_MS, payloadBytes: 80 }),
  };
}

export async function createGroupCall(api: Api, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/communications/calls', { subject: 'test call', ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Probes `receiver` got from `sender` that the sender sent at or after `fromCounter`. */
export function receivedSince(receiver: RtpPeer, sender: RtpPeer, fromCounter: number): number {
  return receiver.from(sender.senderId).filter((p) => p.counter >= fromCounter).length;
}
