import type { types } from 'mediasoup';

/** Every call's router speaks Opus only: this is an audio conferencing server. */
export const OPUS_CLOCK_RATE = 48000;
export const OPUS_CHANNELS = 2;

export const routerMediaCodecs: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: OPUS_CLOCK_RATE, channels: OPUS_CHANNELS },
];

/** RFC 6464: the sender's audio level in every packet, which speaker-aware forwarding ranks by. */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/**
 * What a plain-RTP endpoint sends: Opus under its own payload type and SSRC; with
 * `audioLevelExtensionId`, its packets carry the RFC 6464 audio level under that one-byte
 * header extension id (the worker reads it for AudioLevelObserver/ActiveSpeakerObserver).
 */
export function plainOpusSendParameters(payloadType: number, ssrc: number, audioLevelExtensionId: number | null = null): types.RtpParameters {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType, clockRate: OPUS_CLOCK_RATE, channels: OPUS_CHANNELS }],
    encodings: [{ ssrc }],
    headerExtensions: audioLevelExtensionId === null ? [] : [{ uri: AUDIO_LEVEL_URI, id: audioLevelExtensionId, encrypt: false, parameters: {} }],
    rtcp: { reducedSize: true },
  };
}

/**
 * What a plain-RTP endpoint can receive: Opus under the payload type it declared for sending
 * (an RTP/SIP peer negotiates one payload type for both directions).
 */
export function plainOpusReceiveCapabilities(payloadType: number): types.RtpCapabilities {
  return {
    codecs: [
      {
        kind: 'audio',
        mimeType: 'audio/opus',
        preferredPayloadType: payloadType,
        clockRate: OPUS_CLOCK_RATE,
        channels: OPUS_CHANNELS,
      },
    ],
    headerExtensions: [],
  };
}
