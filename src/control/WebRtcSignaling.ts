import type { CallService } from './CallService.js';
import { NotConfirmedInTime } from './confirmWithin.js';
import { callMediaLost, DomainError, notFound } from './errors.js';
import type { IdentitySet } from './identity.js';
import {
  InvalidMediaRequest,
  type SignalingBlob,
  type WebRtcEndpointEvents,
  type WebRtcEndpointMedia,
  type WebRtcTransportInfo,
} from './mediaPlane.js';
import type { Participant } from './Participant.js';

/**
 * WebRTC participants: joining, and the mediasoup-client signaling steps (transports, DTLS,
 * produce, consumers). A WebRTC participant is a Graph participant like any other; only its
 * media is negotiated. Producing runs in the identity's queue and starts paused when the
 * identity is muted, exactly as a plain-RTP producer does.
 */
export class WebRtcSignaling {
  constructor(private readonly service: CallService) {}

  routerRtpCapabilities(callId: string): SignalingBlob {
    const call = this.service.getCall(callId);
    if (call.mediaLost) throw callMediaLost(callId);
    return call.media.rtpCapabilities();
  }

  async join(callId: string, identity: IdentitySet, rtpCapabilities: SignalingBlob): Promise<Participant> {
    // Checked before the participant exists: a refused join never shows in the roster.
    const call = this.service.getCall(callId);
    if (!call.mediaLost) await this.run(async () => call.media.assertDeviceCapabilities(rtpCapabilities));
    const participant = await this.service.addParticipant(callId, { identity, media: { kind: 'webrtc' } });
    try {
      await this.run(() => this.media(participant).setRtpCapabilities(rtpCapabilities));
    } catch (err) {
      // No half-done join: a participant whose join failed does not stay in the call.
      await this.service.removeLeg(participant).catch(() => undefined);
      throw err;
    }
    return participant;
  }

  createTransport(participant: Participant, direction: 'send' | 'recv'): Promise<WebRtcTransportInfo> {
    return this.run(() => this.media(participant).createTransport(direction));
  }

  connectTransport(participant: Participant, transportId: string, dtlsParameters: SignalingBlob): Promise<void> {
    return this.run(() => this.media(participant).connectTransport(transportId, dtlsParameters));
  }

  /**
   * Creates the participant's audio producer: paused from the start if the identity is muted.
   * Always a request of the participant about itself (its own connection's), so within their limit.
   */
  async produce(participant: Participant, transportId: string, rtpParameters: SignalingBlob): Promise<{ producerId: string }> {
    return this.service.ownRequest(participant.speaker, () => this.queuedProduce(participant, transportId, rtpParameters), true);
  }

  private queuedProduce(participant: Participant, transportId: string, rtpParameters: SignalingBlob): Promise<{ producerId: string }> {
    return participant.speaker.queue.run(() =>
      this.run(async () => {
        const live = this.service.getParticipant(participant.callId, participant.id);
        if (live !== participant) throw new DomainError('notFound', 'participantNotFound', `participant ${participant.id} was not found`);
        const media = this.media(participant);
        const sendPaused = participant.speaker.muted;
        let result: { producerId: string };
        try {
          // A muted participant's producer must be confirmed paused in time (media.muteConfirmTimeoutMs), or its media goes.
          result = await this.service.withPausedStart(sendPaused, (start) => media.produce(transportId, rtpParameters, start), () => undefined);
        } catch (err) {
          if (!(err instanceof NotConfirmedInTime)) throw err;
          media.close();
          participant.media = null;
          throw new DomainError('mediaUnavailable', 'muteNotConfirmed', `${err.message} (media.muteConfirmTimeoutMs); the participant's media was torn down, and the participant stays muted`);
        }
        participant.producerId = result.producerId;
        return result;
      }),
    );
  }

  startConsuming(participant: Participant): Promise<void> {
    return this.run(() => this.media(participant).startConsuming());
  }

  resumeConsumer(participant: Participant, consumerId: string): Promise<void> {
    return this.run(() => this.media(participant).resumeConsumer(consumerId));
  }

  /** Subscribes to the participant's media events (new consumers to offer, transport failures). */
  watch(participant: Participant, listeners: Partial<WebRtcEndpointEvents>): void {
    const media = this.media(participant);
    for (const [event, listener] of Object.entries(listeners) as [keyof WebRtcEndpointEvents, WebRtcEndpointEvents[keyof WebRtcEndpointEvents]][]) {
      media.on(event, listener);
    }
  }

  private media(participant: Participant): WebRtcEndpointMedia {
    // A leg that left (replaced by a rejoin from elsewhere, removed) is gone: the client's mistake, not a retry.
    if (this.service.getCall(participant.callId).participants.get(participant.id) !== participant) throw notFound('participant', participant.id);
    const media = participant.media;
    if (!media) throw new DomainError('mediaUnavailable', 'mediaDisconnected', `participant ${participant.id} has no media (it left, or its worker died)`);
    if (media.kind !== 'webrtc') throw new DomainError('invalidRequest', 'notAWebRtcParticipant', `participant ${participant.id} is not a WebRTC participant`);
    return media as WebRtcEndpointMedia;
  }

  /** Client mistakes (unknown transport, bad DTLS parameters, produce before connect) are 400s; anything else 503. */
  private async run<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (err instanceof InvalidMediaRequest || err instanceof TypeError) {
        throw new DomainError('invalidRequest', 'invalidMediaRequest', (err as Error).message);
      }
      throw new DomainError('mediaUnavailable', 'mediaRequestFailed', (err as Error).message);
    }
  }
}
