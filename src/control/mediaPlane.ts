/**
 * The media operations the control plane needs, and nothing more. The control plane owns this
 * interface; src/media implements it with mediasoup, unit tests implement it in memory.
 */
import type { CallForwarding } from './forwarding.js';

export interface TransportAddress {
  ip: string;
  port: number;
}

/** How a plain-RTP participant sends: one Opus stream under this payload type and SSRC. */
export interface RtpSendSpec {
  payloadType: number;
  ssrc: number;
}

/** The SRTP suites a plain-RTP participant may use (both are supported by mediasoup 3.13 and tested). */
export const SRTP_CRYPTO_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'] as const;
export type SrtpCryptoSuite = (typeof SRTP_CRYPTO_SUITES)[number];

/** SRTP asked for at join: the suite, and optionally the master key + salt the participant sends with. */
export interface SrtpRequest {
  cryptoSuite: SrtpCryptoSuite;
  /** base64 of master key ‖ master salt (SDES inline key); absent = the gateway generates one. */
  keyBase64?: string;
}

/** SRTP keys of a plain-RTP endpoint, as its participant must use them (SDES, one key per direction). */
export interface SrtpKeys {
  cryptoSuite: SrtpCryptoSuite;
  /** The participant encrypts what it sends with this (the gateway decrypts with it). */
  sendKeyBase64: string;
  /** The gateway encrypts what the participant receives with this (the participant decrypts with it). */
  receiveKeyBase64: string;
}

export interface RtpEndpointSpec extends RtpSendSpec {
  /**
   * Where others' audio goes; RTP is then accepted only from this address. Absent = latching:
   * the address is learned from the first packet that authenticates, so it needs `srtp`.
   */
  receive?: TransportAddress;
  /** SRTP on this leg (required for latching). */
  srtp?: SrtpRequest;
  /**
   * The id (1–14) of the RFC 6464 `urn:ietf:params:rtp-hdrext:ssrc-audio-level` one-byte header
   * extension the participant's packets carry; absent = they carry none (the source cannot be
   * ranked in speaker-aware forwarding and is always forwarded).
   */
  audioLevelExtensionId?: number;
}

/** One stream a participant receives: another participant's audio, as the SFU re-sends it. */
export interface ReceivedStream {
  sourceParticipantId: string;
  ssrc: number;
  payloadType: number;
}

/**
 * A media request that cannot work as asked (unknown transport, produce before connect, …): the
 * client's mistake, as opposed to the media worker failing. Adapters answer it with a 400.
 */
export class InvalidMediaRequest extends Error {
  override name = 'InvalidMediaRequest';
}

/**
 * No media worker has room for what was asked (a join beyond the per-worker budget): the media
 * plane refused it before touching any worker. Adapters answer it with a 503.
 */
export class MediaCapacityExceeded extends Error {
  override name = 'MediaCapacityExceeded';
}

/** How a participant's media starts: both directions fail closed from the first packet. */
/**
 * How a producer starts: paused when muted. `producing`, when given, gets the worker's creation
 * of the producer the moment it is asked for, so the domain can bound the wait for that
 * confirmation alone (media.muteConfirmTimeoutMs), not the whole setup around it.
 */
export interface ProducerStart {
  sendPaused: boolean;
  producing?: (created: Promise<unknown>) => void;
}

export interface EndpointStart extends ProducerStart {
  /** Muted: its producer is created paused. */
  sendPaused: boolean;
  /** Deafened: its consumers are created paused. */
  receivePaused: boolean;
}

/** How a call's media is set up. */
export interface CallMediaOptions {
  /** Who hears whom (see CallForwarding); absent = everyone hears every unmuted participant. */
  forwarding?: CallForwarding;
}

/**
 * What the media notices about who is speaking (see README, "Speaker signals"). Advisory only:
 * nothing about mute or forwarding depends on the domain acting on it.
 */
export type SpeakerSignal =
  /** The participant the media considers the call's dominant speaker now (null: nobody). */
  | { kind: 'dominantSpeaker'; participantId: string | null }
  /** A muted participant keeps sending speech (true), or has stopped for a while (false). */
  | { kind: 'talkingWhileMuted'; participantId: string; talking: boolean };

export interface MediaPlane {
  /** Creates the media of one call (its own router). */
  openCall(callId: string, options?: CallMediaOptions): Promise<CallMedia>;
}

export interface CallMedia {
  /**
   * Adds a participant's media. Its send stream starts paused when `sendPaused` is true, so a
   * muted participant is silent from its first packet. Everyone else in the call receives it.
   */
  addRtpEndpoint(participantId: string, spec: RtpEndpointSpec, opts: EndpointStart): Promise<EndpointMedia>;
  /**
   * Adds a WebRTC participant: transports and its producer come later, through signaling. Its
   * producer is created through WebRtcEndpointMedia.produce, which the domain calls paused when
   * the participant is muted.
   */
  addWebRtcEndpoint(participantId: string, opts: { receivePaused: boolean }): Promise<WebRtcEndpointMedia>;
  /** The router's RTP capabilities (mediasoup's object, opaque here), for a WebRTC device to load. */
  rtpCapabilities(): unknown;
  /**
   * Throws InvalidMediaRequest when a WebRTC device with these RTP capabilities could not take
   * part (not a capabilities object, or no codec in common): checked before the participant exists.
   */
  assertDeviceCapabilities(rtpCapabilities: SignalingBlob): void;
  /** Registers a listener for the media vanishing underneath the call (worker crash). */
  onLost(listener: (reason: string) => void): void;
  /** Registers a listener for speaker signals; a media plane that detects none leaves this out. */
  onSpeakerSignal?(listener: (signal: SpeakerSignal) => void): void;
  /** Tears down every endpoint and the router. Idempotent. */
  close(): void;
}

export interface EndpointMedia {
  readonly kind: 'rtp' | 'webrtc';
  /** Where this participant sends its RTP (plain RTP); null for WebRTC. */
  readonly sendAddress: TransportAddress | null;
  /** The SRTP keys of a plain-RTP leg with SRTP; null otherwise (WebRTC keys come from DTLS). */
  readonly srtp: SrtpKeys | null;
  /**
   * Resolves once the media worker has confirmed that the send stream is paused. Without a send
   * stream (a WebRTC participant that has not produced yet) nothing flows and it resolves at once.
   */
  pauseSend(): Promise<void>;
  /**
   * The domain gave up waiting for a pause of this send stream (its bound): if the worker the
   * stream enters through has still not confirmed it, that worker is stalled with whatever the
   * participant sent waiting in its sockets, to be forwarded when it runs again. Kills it, so that
   * nothing waiting there is ever forwarded (fail closed): every call on it loses its media, which
   * the domain rebuilds (onLost). Call before close(). Returns whether a worker was stopped.
   */
  abandonUnconfirmedPause(): boolean;
  /**
   * Resolves once the media worker has confirmed that the send stream flows again, with how
   * many packets the worker received (and dropped) from the participant while it was paused.
   */
  resumeSend(): Promise<{ packetsDroppedWhilePaused: number }>;
  /** Deafen: pauses every consumer of this participant (it hears nobody); later consumers start paused. */
  pauseReceive(): Promise<void>;
  /** Undeafen: resumes its consumers (WebRTC: those the client has resumed). */
  resumeReceive(): Promise<void>;
  /** Replaces the send stream (new SSRC/payload type); the new one starts paused when asked. */
  replaceSendStream(spec: RtpSendSpec, opts: ProducerStart): Promise<void>;
  /** Where this participant's received audio goes, once known (comedia learns it from RTP). */
  receiveAddress(): TransportAddress | null;
  receivedStreams(): ReceivedStream[];
  /** Releases the participant's media. Idempotent. */
  close(): void;
}

/** Opaque mediasoup/WebRTC parameter objects (ICE, DTLS, RTP): the domain passes them through. */
export type SignalingBlob = unknown;

export interface WebRtcTransportInfo {
  id: string;
  iceParameters: SignalingBlob;
  iceCandidates: SignalingBlob;
  dtlsParameters: SignalingBlob;
}

/** A stream this WebRTC participant should start receiving (a consumer, created paused). */
export interface ConsumerOffer {
  consumerId: string;
  producerId: string;
  sourceParticipantId: string;
  kind: 'audio';
  rtpParameters: SignalingBlob;
}

export interface WebRtcEndpointEvents {
  /** A new consumer for this participant; the client resumes it once its track is set up. */
  consumer(offer: ConsumerOffer): void;
  consumerClosed(consumerId: string): void;
  /** ICE or DTLS failed or closed on one of the participant's transports. */
  transportFailed(reason: string): void;
}

export interface WebRtcEndpointMedia extends EndpointMedia {
  readonly kind: 'webrtc';
  createTransport(direction: 'send' | 'recv'): Promise<WebRtcTransportInfo>;
  connectTransport(transportId: string, dtlsParameters: SignalingBlob): Promise<void>;
  /** The device's RTP capabilities (needed before consuming). */
  setRtpCapabilities(rtpCapabilities: SignalingBlob): Promise<void>;
  /**
   * From now on, offer a consumer for every other participant's producer (those that exist and
   * those to come). Called once the client has its receive transport, so offers never arrive
   * before it can take them.
   */
  startConsuming(): Promise<void>;
  /** Creates the participant's audio producer (one at a time: a second replaces the first). */
  produce(transportId: string, rtpParameters: SignalingBlob, opts: ProducerStart): Promise<{ producerId: string }>;
  resumeConsumer(consumerId: string): Promise<void>;
  on<E extends keyof WebRtcEndpointEvents>(event: E, listener: WebRtcEndpointEvents[E]): void;
}
