import { encodeProbe } from '../../native-bench/lib/rtp.js';

/**
 * Crafted datagrams a participant can send into its own leg with nothing but a UDP socket: RTP
 * whose header uses every optional part (CSRC lists, one- and two-byte header extensions, the
 * padding bit with honest and lying padding counts, odd payload types, versions other than 2,
 * truncations), RTCP compounds of every type the worker parses (SR, RR, SDES, BYE, APP, generic
 * NACK, transport-cc, PLI, FIR, REMB, XR) aimed at any SSRC, with honest and lying lengths, and
 * plain noise. Every RTP packet that could be forwarded carries a probe payload (senderId and
 * counter), so a receiver can tell exactly which crafted packet reached it, and when it was sent.
 */
export interface HostileRtpSource {
  /** The probe sender id stamped into crafted RTP payloads (the participant's RtpPeer.senderId). */
  senderId: number;
  /** The leg's own SSRC (most crafted RTP uses it: that is what the producer matches). */
  ssrc: number;
  /** Other SSRCs to aim at: other participants', the SFU's consumer SSRCs, anything. */
  otherSsrcs: number[];
  /** The payload type the leg declared. */
  payloadType: number;
  /** Next probe counter: every crafted probe takes one (share it with the peer's own stream). */
  nextCounter(): number;
}

export type HostileKind =
  | 'csrc'
  | 'oneByteExtension'
  | 'twoByteExtension'
  | 'padding'
  | 'lyingPadding'
  | 'payloadType'
  | 'version'
  | 'truncated'
  | 'rtcpReports'
  | 'rtcpSdes'
  | 'rtcpBye'
  | 'rtcpApp'
  | 'rtcpNack'
  | 'rtcpTransportCc'
  | 'rtcpPsfb'
  | 'rtcpXr'
  | 'rtcpLyingLength'
  | 'noise';

export const HOSTILE_KINDS: readonly HostileKind[] = [
  'csrc',
  'oneByteExtension',
  'twoByteExtension',
  'padding',
  'lyingPadding',
  'payloadType',
  'version',
  'truncated',
  'rtcpReports',
  'rtcpSdes',
  'rtcpBye',
  'rtcpApp',
  'rtcpNack',
  'rtcpTransportCc',
  'rtcpPsfb',
  'rtcpXr',
  'rtcpLyingLength',
  'noise',
];

export class HostileRtp {
  private sequenceNumber: number;
  private timestamp: number;

  constructor(
    private readonly source: HostileRtpSource,
    private readonly random: () => number,
  ) {
    this.sequenceNumber = this.int(0x10000);
    this.timestamp = this.int(0x100000000);
  }

  /** One crafted datagram of a kind picked at random. */
  next(): { kind: HostileKind; datagram: Buffer } {
    const kind = HOSTILE_KINDS[this.int(HOSTILE_KINDS.length)]!;
    return { kind, datagram: this.of(kind) };
  }

  of(kind: HostileKind): Buffer {
    switch (kind) {
      case 'csrc':
        return this.rtp({ csrcs: Array.from({ length: 1 + this.int(15) }, () => this.anySsrc()) });
      case 'oneByteExtension':
        return this.rtp({ extension: this.oneByteExtension() });
      case 'twoByteExtension':
        return this.rtp({ extension: this.twoByteExtension() });
      case 'padding':
        return this.rtp({ padding: 1 + this.int(64) });
      case 'lyingPadding': {
        // The padding count (last byte) says more than the packet holds after its header.
        const packet = this.rtp({ padding: 1 });
        packet[packet.length - 1] = 200 + this.int(56);
        return packet;
      }
      case 'payloadType':
        // Every payload type, those that look like RTCP under rtcp-mux (72–76 + marker) included.
        return this.rtp({ payloadType: this.int(128), marker: this.int(2) === 1 });
      case 'version': {
        const packet = this.rtp({});
        packet[0] = (packet[0]! & 0x3f) | ([0, 1, 3][this.int(3)]! << 6);
        return packet;
      }
      case 'truncated': {
        const packet = this.rtp(this.int(2) ? { extension: this.oneByteExtension(), csrcs: [this.anySsrc()] } : {});
        return packet.subarray(0, 1 + this.int(Math.min(packet.length - 1, 40)));
      }
      case 'rtcpReports':
        return Buffer.concat([this.senderReport(), this.receiverReport()]);
      case 'rtcpSdes':
        return Buffer.concat([this.receiverReport(), this.sdes()]);
      case 'rtcpBye':
        return Buffer.concat([this.receiverReport(), this.bye()]);
      case 'rtcpApp':
        return Buffer.concat([this.receiverReport(), this.rtcp(204, this.int(32), Buffer.concat([this.ssrcBytes(), Buffer.from('EVIL'), this.bytes(4 * this.int(8))]))]);
      case 'rtcpNack':
        return this.feedback(205, 1, Buffer.concat(Array.from({ length: 1 + this.int(20) }, () => this.bytes(4))));
      case 'rtcpTransportCc':
        return this.feedback(205, 15, this.transportCcBody());
      case 'rtcpPsfb': {
        const fmt = [1, 2, 3, 4, 15, this.int(32)][this.int(6)]!;
        const fci =
          fmt === 15
            ? Buffer.concat([Buffer.from('REMB'), Buffer.from([1 + this.int(3), this.int(256), this.int(256), this.int(256)]), this.ssrcBytes(), this.ssrcBytes()])
            : fmt === 4
              ? Buffer.concat([this.ssrcBytes(), Buffer.from([this.int(256), 0, 0, 0])])
              : this.bytes(4 * this.int(6));
        return this.feedback(206, fmt, fci);
      }
      case 'rtcpXr':
        return this.rtcp(207, 0, Buffer.concat([this.ssrcBytes(), this.xrBlocks()]));
      case 'rtcpLyingLength': {
        // A compound whose length words point past the datagram or into the next packet.
        const compound = Buffer.concat([this.senderReport(), this.sdes(), this.bye()]);
        const at = this.int(3) === 0 ? 0 : 4 * this.int(compound.length / 4);
        if (at + 4 <= compound.length) compound.writeUInt16BE(this.int(0x10000), at + 2);
        return compound.subarray(0, compound.length - 4 * this.int(3));
      }
      case 'noise': {
        const noise = this.bytes(1 + this.int(300));
        noise[0] = 0x80 | this.int(0x40); // looks like RTP or RTCP v2 at first sight
        return noise;
      }
    }
  }

  private rtp(opts: { csrcs?: number[]; extension?: Buffer; padding?: number; payloadType?: number; marker?: boolean }): Buffer {
    const csrcs = opts.csrcs ?? [];
    const header = Buffer.alloc(12 + 4 * csrcs.length);
    header[0] = 0x80 | (opts.padding ? 0x20 : 0) | (opts.extension ? 0x10 : 0) | csrcs.length;
    header[1] = (opts.marker ? 0x80 : 0) | ((opts.payloadType ?? this.source.payloadType) & 0x7f);
    header.writeUInt16BE((this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff), 2);
    header.writeUInt32BE((this.timestamp = (this.timestamp + 960) >>> 0), 4);
    // Mostly its own SSRC (what its producer matches), sometimes anyone's.
    header.writeUInt32BE(this.int(4) === 0 ? this.anySsrc() : this.source.ssrc, 8);
    csrcs.forEach((csrc, i) => header.writeUInt32BE(csrc >>> 0, 12 + 4 * i));
    const probe = encodeProbe({ senderId: this.source.senderId, counter: this.source.nextCounter(), sentAtMs: 0 }, 40 + this.int(120));
    const parts = [header, opts.extension ?? Buffer.alloc(0), probe];
    if (opts.padding) {
      const padding = Buffer.alloc(opts.padding);
      padding[opts.padding - 1] = opts.padding;
      parts.push(padding);
    }
    return Buffer.concat(parts);
  }

  /** RFC 8285 one-byte elements (ids 1–14, and 15, which ends parsing), padded to 32 bits. */
  private oneByteExtension(): Buffer {
    const elements: Buffer[] = [];
    for (let i = 1 + this.int(6); i > 0; i--) {
      const length = this.int(16);
      elements.push(Buffer.from([((1 + this.int(15)) << 4) | length]), this.bytes(length + 1));
      if (this.int(4) === 0) elements.push(Buffer.alloc(this.int(3))); // padding bytes between elements
    }
    return this.extensionBlock(0xbede, Buffer.concat(elements));
  }

  /** RFC 8285 two-byte elements (any id, lengths 0–255). */
  private twoByteExtension(): Buffer {
    const elements: Buffer[] = [];
    for (let i = 1 + this.int(4); i > 0; i--) {
      const length = this.int(4) === 0 ? 200 + this.int(56) : this.int(20);
      elements.push(Buffer.from([this.int(256), length]), this.bytes(length));
    }
    return this.extensionBlock(0x1000 | this.int(16), Buffer.concat(elements));
  }

  private extensionBlock(profile: number, body: Buffer): Buffer {
    const words = Math.ceil(body.length / 4);
    const block = Buffer.alloc(4 + 4 * words);
    block.writeUInt16BE(profile, 0);
    // Sometimes a length that does not match the body (longer or shorter).
    block.writeUInt16BE(this.int(5) === 0 ? this.int(0x10000) : words, 2);
    body.copy(block, 4);
    return block;
  }

  private senderReport(): Buffer {
    const blocks = this.reportBlocks();
    return this.rtcp(200, blocks.count, Buffer.concat([this.ssrcBytes(), this.bytes(20), blocks.bytes]));
  }

  private receiverReport(): Buffer {
    const blocks = this.reportBlocks();
    return this.rtcp(201, blocks.count, Buffer.concat([this.ssrcBytes(), blocks.bytes]));
  }

  private reportBlocks(): { count: number; bytes: Buffer } {
    const count = this.int(4);
    return { count, bytes: Buffer.concat(Array.from({ length: count }, () => Buffer.concat([this.ssrcBytes(), this.bytes(20)]))) };
  }

  private sdes(): Buffer {
    const chunks: Buffer[] = [];
    const count = 1 + this.int(3);
    for (let i = 0; i < count; i++) {
      const items: Buffer[] = [this.ssrcBytes()];
      for (let j = this.int(4); j > 0; j--) {
        const length = this.int(4) === 0 ? 255 : this.int(30);
        items.push(Buffer.from([1 + this.int(8), length]), this.bytes(length));
      }
      items.push(Buffer.alloc(1)); // end of the item list
      const chunk = Buffer.concat(items);
      chunks.push(Buffer.concat([chunk, Buffer.alloc((4 - (chunk.length % 4)) % 4)]));
    }
    return this.rtcp(202, count, Buffer.concat(chunks));
  }

  private bye(): Buffer {
    const count = this.int(4);
    const ssrcs = Array.from({ length: count }, () => this.ssrcBytes());
    const reason = this.int(2) ? this.bytes(this.int(20)) : Buffer.alloc(0);
    const withReason = reason.length ? Buffer.concat([Buffer.from([reason.length]), reason]) : Buffer.alloc(0);
    const body = Buffer.concat([...ssrcs, withReason]);
    return this.rtcp(203, count, Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]));
  }

  private feedback(packetType: number, fmt: number, fci: Buffer): Buffer {
    return Buffer.concat([this.receiverReport(), this.rtcp(packetType, fmt, Buffer.concat([this.ssrcBytes(), this.ssrcBytes(), fci]))]);
  }

  /** A transport-cc body: base sequence, status count (sometimes huge), reference time, chunks, deltas. */
  private transportCcBody(): Buffer {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(this.int(0x10000), 0);
    head.writeUInt16BE(this.int(3) === 0 ? this.int(0x10000) : this.int(64), 2);
    head.writeUIntBE(this.int(0x1000000), 4, 3);
    head[7] = this.int(256);
    return Buffer.concat([head, this.bytes(4 * this.int(12))]);
  }

  /** XR blocks: receiver reference time (4), DLRR (5) with sub-blocks, and unknown types. */
  private xrBlocks(): Buffer {
    const blocks: Buffer[] = [];
    for (let i = 1 + this.int(3); i > 0; i--) {
      const type = [4, 5, this.int(256)][this.int(3)]!;
      const words = type === 4 ? 2 : type === 5 ? 3 * (1 + this.int(3)) : this.int(4);
      const block = Buffer.concat([Buffer.alloc(4), this.bytes(4 * words)]);
      block[0] = type;
      block.writeUInt16BE(this.int(5) === 0 ? this.int(0x10000) : words, 2);
      if (type === 5) for (let at = 4; at < block.length; at += 12) this.ssrcBytes().copy(block, at);
      blocks.push(block);
    }
    return Buffer.concat(blocks);
  }

  /** One RTCP packet (RFC 3550 common header) with an honest length. */
  private rtcp(packetType: number, count: number, body: Buffer): Buffer {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const header = Buffer.alloc(4);
    header[0] = 0x80 | (count & 0x1f);
    header[1] = packetType;
    header.writeUInt16BE(padded.length / 4, 2);
    return Buffer.concat([header, padded]);
  }

  private anySsrc(): number {
    const known = [this.source.ssrc, ...this.source.otherSsrcs];
    return this.int(3) === 0 ? this.int(0x100000000) : known[this.int(known.length)]!;
  }

  private ssrcBytes(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.anySsrc() >>> 0, 0);
    return b;
  }

  private bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  private int(below: number): number {
    return Math.floor(this.random() * below);
  }
}
