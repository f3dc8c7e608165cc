import { describe, expect, it } from 'vitest';
import { decodeProbe, decodeRtp, encodeProbe, encodeRtp, PROBE_HEADER_BYTES } from '../../native-bench/lib/rtp.js';

describe('RTP and probe encoding', () => {
  it('round-trips an RTP packet with a probe payload', () => {
    const payload = encodeProbe({ senderId: 7, counter: 123456, sentAtMs: 1795437000123.25 }, 80);
    expect(payload.length).toBe(80);
    const wire = encodeRtp({ payloadType: 100, sequenceNumber: 65535, timestamp: 4294967295, ssrc: 0xdeadbeef, marker: true, payload });
    expect(wire.length).toBe(92);
    const packet = decodeRtp(wire);
    expect(packet).toMatchObject({ payloadType: 100, sequenceNumber: 65535, timestamp: 4294967295, ssrc: 0xdeadbeef, marker: true });
    expect(decodeProbe(packet!.payload)).toEqual({ senderId: 7, counter: 123456, sentAtMs: 1795437000123.25 });
  });

  it('skips CSRCs, header extensions and padding to find the payload', () => {
    const payload = encodeProbe({ senderId: 1, counter: 2, sentAtMs: 3 }, PROBE_HEADER_BYTES);
    const header = Buffer.from([0xb1, 100, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]); // V=2 P=1 X=1 CC=1
    const csrc = Buffer.alloc(4, 9);
    const ext = Buffer.from([0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]);
    const padding = Buffer.from([0, 0, 3]);
    const packet = decodeRtp(Buffer.concat([header, csrc, ext, payload, padding]));
    expect(packet?.payload.length).toBe(PROBE_HEADER_BYTES);
    expect(decodeProbe(packet!.payload)).toEqual({ senderId: 1, counter: 2, sentAtMs: 3 });
  });

  it('rejects RTCP, short packets, other versions and non-probe payloads', () => {
    expect(decodeRtp(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0]))).toBeNull(); // RTCP SR
    expect(decodeRtp(Buffer.alloc(8))).toBeNull();
    expect(decodeRtp(Buffer.alloc(20))).toBeNull(); // version 0
    expect(decodeProbe(Buffer.alloc(40))).toBeNull();
    expect(decodeProbe(Buffer.alloc(4))).toBeNull();
  });
});
