/**
 * RTP (RFC 3550) packets as the bench and the tests send them: a 12-byte header and a probe
 * payload that carries who sent the packet, its probe counter and its send time. The SFU
 * rewrites SSRC, sequence number and timestamp but forwards the payload untouched, so the
 * receiver can tell exactly which sent packet arrived.
 */

export interface RtpHeader {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
}

export interface RtpPacket extends RtpHeader {
  payload: Buffer;
}

const RTP_HEADER_BYTES = 12;

export function encodeRtp(packet: RtpPacket): Buffer {
  const buf = Buffer.allocUnsafe(RTP_HEADER_BYTES + packet.payload.length);
  buf[0] = 0x80; // V=2, no padding, no extension, no CSRC
  buf[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  buf.writeUInt16BE(packet.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(packet.timestamp >>> 0, 4);
  buf.writeUInt32BE(packet.ssrc >>> 0, 8);
  packet.payload.copy(buf, RTP_HEADER_BYTES);
  return buf;
}

/** Parses an RTP packet; returns null for anything that is not RTP v2 (e.g. RTCP on the muxed port). */
export function decodeRtp(buf: Buffer): RtpPacket | null {
  if (buf.length < RTP_HEADER_BYTES || buf[0]! >> 6 !== 2) return null;
  const payloadTypeByte = buf[1]!;
  // RTCP packet types 192..223 share the port (rtcp-mux, RFC 5761).
  if (payloadTypeByte >= 192 && payloadTypeByte <= 223) return null;
  const csrcCount = buf[0]! & 0x0f;
  let offset = RTP_HEADER_BYTES + 4 * csrcCount;
  if (buf[0]! & 0x10) {
    if (buf.length < offset + 4) return null;
    offset += 4 + 4 * buf.readUInt16BE(offset + 2);
  }
  let end = buf.length;
  if (buf[0]! & 0x20) end -= buf[buf.length - 1]!;
  if (offset > end) return null;
  return {
    payloadType: payloadTypeByte & 0x7f,
    marker: (payloadTypeByte & 0x80) !== 0,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(offset, end),
  };
}

/** "MGP1": marks a probe payload. */
const PROBE_MAGIC = 0x4d475031;
export const PROBE_HEADER_BYTES = 20;

export interface Probe {
  /** Identifies the sending peer (not the SSRC, which the SFU rewrites). */
  senderId: number;
  /** Per-sender packet counter, starting at 0. */
  counter: number;
  /** Send time in ms on the sender's monotonic clock (RtpPeer's nowMs). */
  sentAtMs: number;
}

/** A probe padded to `size` bytes (an Opus frame at 20 ms is roughly 60–160 bytes). */
export function encodeProbe(probe: Probe, size = 80): Buffer {
  const buf = Buffer.alloc(Math.max(size, PROBE_HEADER_BYTES));
  buf.writeUInt32BE(PROBE_MAGIC, 0);
  buf.writeUInt32BE(probe.senderId >>> 0, 4);
  buf.writeUInt32BE(probe.counter >>> 0, 8);
  buf.writeDoubleBE(probe.sentAtMs, 12);
  return buf;
}

export function decodeProbe(payload: Buffer): Probe | null {
  if (payload.length < PROBE_HEADER_BYTES || payload.readUInt32BE(0) !== PROBE_MAGIC) return null;
  return { senderId: payload.readUInt32BE(4), counter: payload.readUInt32BE(8), sentAtMs: payload.readDoubleBE(12) };
}
