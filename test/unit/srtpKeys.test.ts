import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeRtp, encodeRtp } from '../../native-bench/lib/rtp.js';
import { SrtpEndpointCodec } from '../../native-bench/lib/srtp.js';
import { CallService } from '../../src/control/CallService.js';
import { InvalidMediaRequest, SRTP_CRYPTO_SUITES } from '../../src/control/mediaPlane.js';
import { participantSendKey, SRTP_KEYING_MATERIAL_BYTES } from '../../src/media/srtpKeys.js';
import { FakeMediaPlane } from '../helpers/fakeMediaPlane.js';

describe('SRTP send keys (SDES keying material)', () => {
  it('generates a fresh key of the exact length of each suite', () => {
    expect(SRTP_KEYING_MATERIAL_BYTES).toEqual({ AES_CM_128_HMAC_SHA1_80: 30, AEAD_AES_128_GCM: 28 });
    for (const cryptoSuite of SRTP_CRYPTO_SUITES) {
      const first = participantSendKey({ cryptoSuite });
      const second = participantSendKey({ cryptoSuite });
      expect(Buffer.from(first, 'base64')).toHaveLength(SRTP_KEYING_MATERIAL_BYTES[cryptoSuite]);
      expect(second).not.toBe(first);
    }
  });

  it('keeps a given key of the right length', () => {
    const keyBase64 = randomBytes(28).toString('base64');
    expect(participantSendKey({ cryptoSuite: 'AEAD_AES_128_GCM', keyBase64 })).toBe(keyBase64);
  });

  it('refuses a key of the other suite’s length, and text that is not base64', () => {
    const cmKey = randomBytes(30).toString('base64');
    expect(() => participantSendKey({ cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: cmKey })).toThrow(InvalidMediaRequest);
    expect(() => participantSendKey({ cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: cmKey })).toThrow(/decodes to 30 bytes; AEAD_AES_128_GCM needs 28/);
    expect(() => participantSendKey({ cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: randomBytes(28).toString('base64') })).toThrow(/needs 30/);
    expect(() => participantSendKey({ cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: '!'.repeat(40) })).toThrow(/not valid base64/);
  });
});

describe('CallService keeps no SRTP key (fake media plane)', () => {
  it('stores only the suite, and a rebuilt endpoint gets fresh keys', async () => {
    const plane = new FakeMediaPlane();
    const service = new CallService(plane, { operationsPerCall: 5 });
    const call = await service.createCall({});
    const keyBase64 = randomBytes(30).toString('base64');
    const p = await service.addParticipant(call.id, {
      identity: { user: { id: 'sip' } },
      media: { kind: 'rtp', payloadType: 100, ssrc: 7, srtp: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80', keyBase64 } },
    });
    expect(p.mediaSpec).toEqual({ kind: 'rtp', payloadType: 100, ssrc: 7, srtp: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' } });
    const before = p.media?.srtp;
    expect(before?.sendKeyBase64).toBe(keyBase64);

    const recovered = new Promise((resolve) => service.once('callMediaRecovered', resolve));
    plane.calls[0]!.loseMedia();
    await recovered;
    const after = p.media?.srtp;
    expect(after?.cryptoSuite).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(after?.sendKeyBase64).not.toBe(keyBase64);
    expect(after?.receiveKeyBase64).not.toBe(before?.receiveKeyBase64);
  });
});

describe('SrtpEndpointCodec (the test and bench client side, werift-rtp)', () => {
  for (const cryptoSuite of SRTP_CRYPTO_SUITES) {
    it(`${cryptoSuite}: the other side decrypts with the mirrored keys; a wrong key or a flipped bit is rejected`, () => {
      const a = participantSendKey({ cryptoSuite });
      const b = participantSendKey({ cryptoSuite });
      const client = new SrtpEndpointCodec({ cryptoSuite, sendKeyBase64: a, receiveKeyBase64: b });
      const server = new SrtpEndpointCodec({ cryptoSuite, sendKeyBase64: b, receiveKeyBase64: a });
      const stranger = new SrtpEndpointCodec({ cryptoSuite, sendKeyBase64: b, receiveKeyBase64: participantSendKey({ cryptoSuite }) });
      const payload = Buffer.from('sixteen byte msg'.repeat(5));
      const rtp = encodeRtp({ payloadType: 100, sequenceNumber: 65535, timestamp: 1234, ssrc: 0xabcdef, marker: false, payload });
      const srtp = client.protect(rtp);
      expect(srtp.subarray(12, 12 + payload.length).equals(payload)).toBe(false); // encrypted
      expect(srtp.length - rtp.length).toBe(cryptoSuite === 'AEAD_AES_128_GCM' ? 16 : 10); // the auth tag
      expect(stranger.unprotect(Buffer.from(srtp))).toBeNull();
      const flipped = Buffer.from(srtp);
      flipped[20]! ^= 1;
      expect(server.unprotect(flipped)).toBeNull();
      expect(decodeRtp(server.unprotect(Buffer.from(srtp)) as Buffer)?.payload.equals(payload)).toBe(true);
    });
  }
});
