import type { IdentitySet } from './identity.js';
import type { EndpointMedia, RtpEndpointSpec } from './mediaPlane.js';
import type { Speaker } from './Speaker.js';

export interface RtpMediaSpec extends RtpEndpointSpec {
  kind: 'rtp';
}

/** One leg of a person in a call: a participant id, its identity and its media. */
export class Participant {
  readonly joinedDateTime = new Date();
  /** Null while the participant has no live media (not yet attached, or lost with a worker). */
  media: EndpointMedia | null = null;

  constructor(
    readonly id: string,
    readonly callId: string,
    readonly identity: IdentitySet,
    readonly speaker: Speaker,
    public mediaSpec: RtpMediaSpec,
  ) {}

  get isMuted(): boolean {
    return this.speaker.muted;
  }
}
