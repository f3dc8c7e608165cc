/**
 * RFC 6464 audio level (`urn:ietf:params:rtp-hdrext:ssrc-audio-level`) in an RFC 5285 one-byte
 * header extension: what a conferencing client writes in every audio packet, and what a
 * speaker-aware SFU reads to tell speech from silence without decoding Opus.
 */
import { encodeRtp, type RtpPacket } from '../rtp.js';

/** The one-byte-header profile ("defined by profile" field) of RFC 5285 §4.2. */
export const ONE_BYTE_PROFILE = 0xbede;
/** 127 = -127 dBov: digital silence (RFC 6464 §3). */
export const SILENT_DBOV = 127;

export interface AudioLevel {
  /** Header extension id negotiated for ssrc-audio-level, 1–14 (0 and 15 are reserved). */
  id: number;
  /** Level in -dBov, 0 (loudest) … 127 (silence). */
  levelDbov: number;
  /** The V bit: the sender's voice activity detector says this is speech. */
  voice: boolean;
}

/**
 * The extension block that follows the 12-byte fixed header: 0xBEDE, its length in 32-bit words
 * (1), then one element (id << 4 | len − 1 = 0, one data byte: V << 7 | level) and two bytes of
 * zero padding to the word boundary. 8 bytes in all.
 */
export function audioLevelExtension(level: AudioLevel): Buffer {
  if (!Number.isInteger(level.id) || level.id < 1 || level.id > 14) throw new RangeError(`audio-level extension id must be 1–14, got ${level.id}`);
  if (!Number.isInteger(level.levelDbov) || level.levelDbov < 0 || level.levelDbov > 127) throw new RangeError(`audio level must be 0–127 -dBov, got ${level.levelDbov}`);
  const buf = Buffer.alloc(8);
  buf.writeUInt16BE(ONE_BYTE_PROFILE, 0);
  buf.writeUInt16BE(1, 2);
  buf[4] = (level.id << 4) | 0; // len − 1 = 0: one data byte
  buf[5] = (level.voice ? 0x80 : 0) | level.levelDbov;
  return buf;
}

/** An RTP packet whose header carries `extension` (a complete RFC 5285 block): X bit set, block right after the fixed header. */
export function encodeRtpWithExtension(packet: RtpPacket, extension: Buffer): Buffer {
  // No CSRCs: the extension block starts where the payload would, so it is written as a prefix of it.
  const buf = encodeRtp({ ...packet, payload: Buffer.concat([extension, packet.payload]) });
  buf[0] = buf[0]! | 0x10;
  return buf;
}

/** The audio level carried by an RTP packet under extension `id`; null when it has none. */
export function readAudioLevel(rtp: Buffer, id: number): { levelDbov: number; voice: boolean } | null {
  if (rtp.length < 12 || !(rtp[0]! & 0x10)) return null;
  const start = 12 + 4 * (rtp[0]! & 0x0f);
  if (rtp.length < start + 4 || rtp.readUInt16BE(start) !== ONE_BYTE_PROFILE) return null;
  const end = start + 4 + 4 * rtp.readUInt16BE(start + 2);
  if (end > rtp.length) return null;
  for (let i = start + 4; i < end; ) {
    const b = rtp[i]!;
    if (b === 0) {
      i++; // padding
      continue;
    }
    const elementId = b >> 4;
    const len = (b & 0x0f) + 1;
    if (elementId === 15) return null; // reserved: stop parsing (RFC 5285 §4.2)
    if (elementId === id && i + 1 < end) return { levelDbov: rtp[i + 1]! & 0x7f, voice: (rtp[i + 1]! & 0x80) !== 0 };
    i += 1 + len;
  }
  return null;
}
