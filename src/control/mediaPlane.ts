/**
 * The media operations the control plane needs, and nothing more. The control plane owns this
 * interface; src/media implements it with mediasoup, unit tests implement it in memory.
 */

export interface TransportAddress {
  ip: string;
  port: number;
}

/** How a plain-RTP participant sends: one Opus stream under this payload type and SSRC. */
export interface RtpSendSpec {
  payloadType: number;
  ssrc: number;
}

export interface RtpEndpointSpec extends RtpSendSpec {
  /** Where others' audio goes; absent = back to the source address of the endpoint's RTP (comedia). */
  receive?: TransportAddress;
}

/** One stream a participant receives: another participant's audio, as the SFU re-sends it. */
export interface ReceivedStream {
  sourceParticipantId: string;
  ssrc: number;
  payloadType: number;
}

export interface MediaPlane {
  /** Creates the media of one call (its own router). */
  openCall(callId: string): Promise<CallMedia>;
}

export interface CallMedia {
  /**
   * Adds a participant's media. Its send stream starts paused when `sendPaused` is true, so a
   * muted participant is silent from its first packet. Everyone else in the call receives it.
   */
  addRtpEndpoint(participantId: string, spec: RtpEndpointSpec, opts: { sendPaused: boolean }): Promise<EndpointMedia>;
  /** Registers a listener for the media vanishing underneath the call (worker crash). */
  onLost(listener: (reason: string) => void): void;
  /** Tears down every endpoint and the router. Idempotent. */
  close(): void;
}

export interface EndpointMedia {
  /** Where this participant sends its RTP. */
  readonly sendAddress: TransportAddress;
  /** Resolves once the media worker has confirmed that the send stream is paused. */
  pauseSend(): Promise<void>;
  /**
   * Resolves once the media worker has confirmed that the send stream flows again, with how
   * many packets the worker received (and dropped) from the participant while it was paused.
   */
  resumeSend(): Promise<{ packetsDroppedWhilePaused: number }>;
  /** Replaces the send stream (new SSRC/payload type); the new one starts paused when asked. */
  replaceSendStream(spec: RtpSendSpec, opts: { sendPaused: boolean }): Promise<void>;
  /** Where this participant's received audio goes, once known (comedia learns it from RTP). */
  receiveAddress(): TransportAddress | null;
  receivedStreams(): ReceivedStream[];
  /** Releases the participant's media. Idempotent. */
  close(): void;
}
