import type { IdentitySet } from './identity.js';
import type { EndpointMedia, RtpEndpointSpec } from './mediaPlane.js';
import type { Speaker } from './Speaker.js';

export interface RtpMediaSpec extends RtpEndpointSpec {
  kind: 'rtp';
}

/** A WebRTC participant: its transports and producer are negotiated over signaling. */
export interface WebRtcMediaSpec {
  kind: 'webrtc';
}

export type MediaSpec = RtpMediaSpec | WebRtcMediaSpec;

/** One leg of a person in a call: a participant id, its identity and its media. */
export class Participant {
  readonly joinedDateTime = new Date();
  /** Null while the participant has no live media (not yet attached, or lost with a worker). */
  media: EndpointMedia | null = null;
  /** The WebRTC producer's id, once the participant produces. */
  producerId: string | null = null;
  /** The media saw this leg keep sending speech while muted (decays after silence; see SpeakerSignals). */
  mutedSpeech = false;
  /** The call's dominant speaker (at most one per call; see SpeakerSignals). */
  dominantSpeaker = false;

  constructor(
    readonly id: string,
    readonly callId: string,
    readonly identity: IdentitySet,
    readonly speaker: Speaker,
    public mediaSpec: MediaSpec,
  ) {}

  get isMuted(): boolean {
    return this.speaker.muted;
  }

  get locked(): boolean {
    return this.speaker.locked;
  }

  get deafened(): boolean {
    return this.speaker.deafened;
  }

  get handRaised(): boolean {
    return this.speaker.handRaised;
  }

  /** Muted, and still sending speech: what "you are muted" hints are shown for. */
  get talkingWhileMuted(): boolean {
    return this.speaker.muted && this.mutedSpeech;
  }

  /** Graph mediaStream.sourceId: the RTP SSRC, or the WebRTC producer id ("" before producing). */
  get sourceId(): string {
    return this.mediaSpec.kind === 'rtp' ? String(this.mediaSpec.ssrc) : (this.producerId ?? '');
  }
}
