import type { CreateCallInput, JoinInput } from './CallService.js';
import { DomainError } from './errors.js';
import { sanitizeIdentitySet, type IdentitySet } from './identity.js';
import { SRTP_CRYPTO_SUITES, type RtpSendSpec, type SrtpRequest, type TransportAddress } from './mediaPlane.js';
import type { MediaSpec, RtpMediaSpec } from './Participant.js';
import { safeText } from './text.js';

/**
 * What the domain keeps of a request: its own bounded copies, checked field by field, never the
 * request's objects (whatever else they carry is dropped). Every transport's schema refuses the
 * same things earlier; this is the check that holds whichever way a request came in. A refused
 * field is a DomainError (invalidRequest) and nothing has been stored yet.
 */

/** A call's stored settings (meetingInfo and chatInfo only decide the call kind: not kept). */
export interface CallSettings {
  subject?: string;
  callbackUri?: string;
  tenantId?: string;
  source?: { identity: IdentitySet };
  targets: { identity: IdentitySet }[];
  /** Created with meetingInfo or chatInfo: a group call whatever the number of targets. */
  meeting: boolean;
  media?: RtpMediaSpec;
  muteOnEntry: boolean;
}

/** Bounds of the stored call fields, as the JSON schema of POST /communications/calls has them. */
export const CALL_LIMITS = { subject: 1024, callbackUri: 2048, tenantId: 256, targets: 256 } as const;

const CALL_CODE = 'invalidCallRequest';
const MEDIA_CODE = 'invalidMedia';

export function sanitizeCreateCallInput(input: CreateCallInput): CallSettings {
  const body: Record<string, unknown> = asObject(input, 'the request body', CALL_CODE);
  const settings: CallSettings = {
    targets: [],
    meeting: Boolean(body.meetingInfo) || Boolean(body.chatInfo),
    muteOnEntry: false,
  };
  if (body.subject !== undefined) settings.subject = safeText(body.subject, 'subject', { maxLength: CALL_LIMITS.subject }, CALL_CODE);
  if (body.tenantId !== undefined) settings.tenantId = safeText(body.tenantId, 'tenantId', { maxLength: CALL_LIMITS.tenantId }, CALL_CODE);
  if (body.callbackUri !== undefined) settings.callbackUri = callbackUri(body.callbackUri);
  if (body.source !== undefined) settings.source = participantInfo(body.source, 'source');
  if (body.targets !== undefined) {
    if (!Array.isArray(body.targets)) throw new DomainError('invalidRequest', CALL_CODE, 'targets must be an array');
    if (body.targets.length > CALL_LIMITS.targets) throw new DomainError('invalidRequest', CALL_CODE, `targets: at most ${CALL_LIMITS.targets}`);
    settings.targets = body.targets.map((target, i) => participantInfo(target, `targets[${i}]`));
  }
  if (body.media !== undefined) {
    const media = sanitizeMediaSpec(body.media, 'media');
    if (media.kind !== 'rtp') throw new DomainError('invalidRequest', MEDIA_CODE, 'media: the application joins with plain RTP ("kind": "rtp")');
    settings.media = media;
  }
  if (body.muteOnEntry !== undefined) {
    if (typeof body.muteOnEntry !== 'boolean') throw new DomainError('invalidRequest', CALL_CODE, 'muteOnEntry must be a boolean');
    settings.muteOnEntry = body.muteOnEntry;
  }
  return settings;
}

export function sanitizeJoinInput(input: JoinInput): JoinInput {
  const body = asObject(input, 'the join request', MEDIA_CODE);
  return { identity: sanitizeIdentitySet(body.identity, 'info.identity'), media: sanitizeMediaSpec(body.media, 'media') };
}

/** A participant's media description: plain RTP (send stream, optional receive address and SRTP) or WebRTC. */
export function sanitizeMediaSpec(value: unknown, where: string): MediaSpec {
  const media = asObject(value, where, MEDIA_CODE);
  if (media.kind === 'webrtc') return { kind: 'webrtc' };
  if (media.kind !== 'rtp') throw new DomainError('invalidRequest', MEDIA_CODE, `${where}.kind must be "rtp" or "webrtc"`);
  const spec: RtpMediaSpec = {
    kind: 'rtp',
    // RTP's own bounds (7-bit payload type, 32-bit SSRC); the API narrows them further.
    payloadType: integer(media.payloadType, `${where}.payloadType`, 0, 127),
    ssrc: integer(media.ssrc, `${where}.ssrc`, 0, 0xffffffff),
  };
  if (media.receive !== undefined) spec.receive = transportAddress(media.receive, `${where}.receive`);
  if (media.srtp !== undefined) spec.srtp = srtpRequest(media.srtp, `${where}.srtp`);
  // RFC 8285 one-byte header extension ids are 1–14 (15 is reserved).
  if (media.audioLevelExtensionId !== undefined) spec.audioLevelExtensionId = integer(media.audioLevelExtensionId, `${where}.audioLevelExtensionId`, 1, 14);
  return spec;
}

/** A new send stream (PATCH of a participant): payload type and SSRC. */
export function sanitizeSendSpec(value: unknown, where: string): RtpSendSpec & { audioLevelExtensionId?: number } {
  const send = asObject(value, where, MEDIA_CODE);
  const spec: RtpSendSpec & { audioLevelExtensionId?: number } = {
    payloadType: integer(send.payloadType, `${where}.payloadType`, 0, 127),
    ssrc: integer(send.ssrc, `${where}.ssrc`, 0, 0xffffffff),
  };
  // Checked, not applied: the caller refuses an id other than the join's (a new stream keeps it).
  if (send.audioLevelExtensionId !== undefined) spec.audioLevelExtensionId = integer(send.audioLevelExtensionId, `${where}.audioLevelExtensionId`, 1, 14);
  return spec;
}

function participantInfo(value: unknown, where: string): { identity: IdentitySet } {
  const info = asObject(value, where, CALL_CODE);
  return { identity: sanitizeIdentitySet(info.identity, `${where}.identity`) };
}

/** An absolute http(s) URL with a host: webhooks are POSTed there. */
function callbackUri(value: unknown): string {
  const uri = safeText(value, 'callbackUri', { maxLength: CALL_LIMITS.callbackUri }, CALL_CODE);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new DomainError('invalidRequest', CALL_CODE, 'callbackUri is not a URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || /\s/.test(uri)) {
    throw new DomainError('invalidRequest', CALL_CODE, 'callbackUri must be an http(s) URL with a host');
  }
  return uri;
}

function transportAddress(value: unknown, where: string): TransportAddress {
  const address = asObject(value, where, MEDIA_CODE);
  // The longest textual IPv6 address (with an embedded IPv4 one) has 45 characters.
  const ip = safeText(address.ip, `${where}.ip`, { maxLength: 45, minLength: 1 }, MEDIA_CODE);
  return { ip, port: integer(address.port, `${where}.port`, 1, 65535) };
}

function srtpRequest(value: unknown, where: string): SrtpRequest {
  const srtp = asObject(value, where, MEDIA_CODE);
  const suite = srtp.cryptoSuite;
  if (typeof suite !== 'string' || !(SRTP_CRYPTO_SUITES as readonly string[]).includes(suite)) {
    throw new DomainError('invalidRequest', MEDIA_CODE, `${where}.cryptoSuite must be one of ${SRTP_CRYPTO_SUITES.join(', ')}`);
  }
  const request: SrtpRequest = { cryptoSuite: suite as SrtpRequest['cryptoSuite'] };
  if (srtp.keyBase64 !== undefined) {
    const key = safeText(srtp.keyBase64, `${where}.keyBase64`, { maxLength: 64, minLength: 16 }, MEDIA_CODE);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new DomainError('invalidRequest', MEDIA_CODE, `${where}.keyBase64 must be base64`);
    request.keyBase64 = key;
  }
  return request;
}

function integer(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new DomainError('invalidRequest', MEDIA_CODE, `${where} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function asObject(value: unknown, where: string, code: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DomainError('invalidRequest', code, `${where} must be an object`);
  return value as Record<string, unknown>;
}
