import { randomBytes } from 'node:crypto';
import { InvalidMediaRequest, type SrtpCryptoSuite, type SrtpRequest } from '../control/mediaPlane.js';

/**
 * Bytes of SDES keying material (master key ‖ master salt) per suite: RFC 4568 §6.2.1 for
 * AES_CM_128 (16-byte key, 14-byte salt), RFC 7714 §12 for AEAD_AES_128_GCM (16-byte key,
 * 12-byte salt). mediasoup's worker checks the same lengths, less readably.
 */
export const SRTP_KEYING_MATERIAL_BYTES: Readonly<Record<SrtpCryptoSuite, number>> = {
  AES_CM_128_HMAC_SHA1_80: 30,
  AEAD_AES_128_GCM: 28,
};

/**
 * The key a participant sends with: the one it asked for, checked, or a fresh random one.
 * Throws InvalidMediaRequest (a 400) for a key that is not canonical base64 of the suite's length.
 */
export function participantSendKey(request: SrtpRequest): string {
  const bytes = SRTP_KEYING_MATERIAL_BYTES[request.cryptoSuite];
  if (request.keyBase64 === undefined) return randomBytes(bytes).toString('base64');
  const decoded = Buffer.from(request.keyBase64, 'base64');
  // Node's decoder skips characters it does not know; re-encoding tells a real base64 string.
  if (decoded.toString('base64') !== request.keyBase64) {
    throw new InvalidMediaRequest(`media.srtp.keyBase64 is not valid base64 (padded, standard alphabet)`);
  }
  if (decoded.length !== bytes) {
    throw new InvalidMediaRequest(
      `media.srtp.keyBase64 decodes to ${decoded.length} bytes; ${request.cryptoSuite} needs ${bytes} (master key ‖ master salt)`,
    );
  }
  return request.keyBase64;
}
