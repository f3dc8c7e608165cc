import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpPacket, SrtpSession } from 'werift-rtp';
import type { SrtpCryptoSuite, SrtpKeys } from '../../src/control/mediaPlane.js';

/** werift's protection profile numbers (the DTLS-SRTP registry's) for the suites the gateway offers. */
const PROFILE: Readonly<Record<SrtpCryptoSuite, 1 | 7>> = {
  AES_CM_128_HMAC_SHA1_80: ProtectionProfileAes128CmHmacSha1_80,
  AEAD_AES_128_GCM: ProtectionProfileAeadAes128Gcm,
};

/** Master key bytes; the rest of the SDES keying material is the master salt. */
const MASTER_KEY_BYTES = 16;

function masterKeyAndSalt(keyBase64: string): { key: Buffer; salt: Buffer } {
  const material = Buffer.from(keyBase64, 'base64');
  return { key: material.subarray(0, MASTER_KEY_BYTES), salt: material.subarray(MASTER_KEY_BYTES) };
}

/**
 * The participant's side of an SDES-keyed SRTP leg (RFC 3711), as the gateway hands out the keys:
 * RTP is encrypted with `sendKeyBase64`, what the gateway sends is decrypted with `receiveKeyBase64`.
 * Backed by werift-rtp's SrtpSession. It keeps the rollover state per SSRC, as SRTP must, and has no
 * replay list: a test client accepts whatever authenticates.
 */
export class SrtpEndpointCodec {
  private readonly session: SrtpSession;

  constructor(readonly keys: Pick<SrtpKeys, 'cryptoSuite' | 'sendKeyBase64' | 'receiveKeyBase64'>) {
    const send = masterKeyAndSalt(keys.sendKeyBase64);
    const receive = masterKeyAndSalt(keys.receiveKeyBase64);
    this.session = new SrtpSession({
      profile: PROFILE[keys.cryptoSuite],
      keys: { localMasterKey: send.key, localMasterSalt: send.salt, remoteMasterKey: receive.key, remoteMasterSalt: receive.salt },
    });
  }

  /** SRTP packet for a plain RTP packet. */
  protect(rtp: Buffer): Buffer {
    const packet = RtpPacket.deSerialize(rtp);
    return this.session.encrypt(packet.payload, packet.header);
  }

  /** The RTP packet inside an SRTP packet, or null when it does not authenticate under the receive key. */
  unprotect(srtp: Buffer): Buffer | null {
    try {
      return this.session.decrypt(srtp);
    } catch {
      return null;
    }
  }
}
