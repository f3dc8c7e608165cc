import type { Call } from './Call.js';
import { CLIENT_CONTEXT_MAX_LENGTH, type CallService } from './CallService.js';
import { NotConfirmedInTime } from './confirmWithin.js';
import { DomainError } from './errors.js';
import { newOperation, type Operation, type ParticipantResult } from './Operation.js';
import type { Participant } from './Participant.js';
import type { ActorRole } from './Policy.js';
import { opaqueText } from './text.js';

/**
 * What a moderator can do beyond muting one person: mute everyone, lock (hard-mute), deafen,
 * ask someone to unmute, handle raised hands, and mute newcomers on entry. Every change runs
 * in the person's queue and is enforced by the media worker before it is reported.
 */
export class Moderation {
  constructor(private readonly service: CallService) {}

  /** Hard mute: muted now, and the person's own unmute is refused until unlocked. */
  lock(callId: string, participantId: string, clientContext?: string): Promise<Operation> {
    const { call, participant } = this.target(callId, participantId);
    return this.service.runParticipantOperation('lockParticipant', call, participant, { clientContext }, async (participant) => {
      const changed = !participant.speaker.locked || !participant.speaker.muted;
      if (participant.media) await this.service.enforceMute(call, participant);
      participant.speaker.muted = true;
      participant.speaker.locked = true;
      return changed;
    });
  }

  /** Lifts the lock; the person stays muted until it unmutes itself. */
  unlock(callId: string, participantId: string, clientContext?: string): Promise<Operation> {
    const { call, participant } = this.target(callId, participantId);
    return this.service.runParticipantOperation('unlockParticipant', call, participant, { clientContext }, async (participant) => {
      this.service.requireDurableState('unlock');
      const changed = participant.speaker.locked;
      participant.speaker.locked = false;
      return changed;
    });
  }

  /**
   * Directional mute: every consumer of the person is paused in the worker, so it hears nobody
   * (new consumers start paused). If the worker cannot confirm, its media is torn down (fail closed).
   */
  deafen(callId: string, participantId: string, clientContext?: string): Promise<Operation> {
    const { call, participant } = this.target(callId, participantId);
    return this.service.runParticipantOperation('deafenParticipant', call, participant, { clientContext }, async (participant) => {
      const changed = !participant.speaker.deafened;
      const media = participant.media;
      participant.speaker.deafened = true;
      if (media) {
        try {
          // Bounded like a mute (media.muteConfirmTimeoutMs): an unconfirmed deafen fails closed in time.
          await this.service.confirmed(media.pauseReceive(), 'the deafen');
        } catch (err) {
          media.close();
          participant.media = null;
          throw new DomainError('mediaUnavailable', 'deafenNotConfirmed', `the media worker did not confirm the deafen (${(err as Error).message}); the participant's media was torn down`);
        }
      }
      return changed;
    });
  }

  undeafen(callId: string, participantId: string, clientContext?: string): Promise<Operation> {
    const { call, participant } = this.target(callId, participantId);
    return this.service.runParticipantOperation('undeafenParticipant', call, participant, { clientContext }, async (participant) => {
      this.service.requireDurableState('undeafen');
      const changed = participant.speaker.deafened;
      const media = participant.media;
      if (media) {
        try {
          await this.service.confirmed(media.resumeReceive(), 'the undeafen');
        } catch (err) {
          if (!(err instanceof NotConfirmedInTime)) throw err;
          // The resume may still land: tear the media down so the person hears nobody, as its state (still deafened) says.
          media.close();
          participant.media = null;
          throw new DomainError('mediaUnavailable', 'undeafenNotConfirmed', `${err.message} (media.muteConfirmTimeoutMs); the participant's media was torn down and it stays deafened`);
        }
      }
      participant.speaker.deafened = false;
      return changed;
    });
  }

  /**
   * Privacy-safe unmute: nobody is unmuted behind their back. The person is asked (an
   * `unmuteRequested` event reaches its own connections) and unmutes itself if it wants to.
   */
  requestUnmute(callId: string, participantId: string, clientContext?: string): Promise<Operation> {
    const { call, participant } = this.target(callId, participantId);
    return this.service.runParticipantOperation('requestUnmute', call, participant, { clientContext }, async (participant) => {
      if (!participant.speaker.muted) {
        throw new DomainError('conflict', 'notMuted', `participant ${participant.id} is not muted`);
      }
      if (participant.speaker.locked) {
        throw new DomainError('conflict', 'participantLocked', `participant ${participant.id} is locked; unlock it first`);
      }
      this.service.emit('unmuteRequested', call, participant, clientContext);
      return false;
    });
  }

  /** Raise or lower a hand (the person itself; a moderator may lower it). */
  async setHand(callId: string, participantId: string, raised: boolean): Promise<Participant> {
    const { call, participant: requested } = this.target(callId, participantId);
    return requested.speaker.queue.run(async () => {
      const participant = this.service.liveLeg(call, requested);
      if (participant.speaker.handRaised === raised) return participant;
      participant.speaker.handRaised = raised;
      await this.service.persistSpeaker(call, participant.speaker);
      this.service.emitUpdated(call, participant);
      return participant;
    });
  }

  async setMuteOnEntry(callId: string, enabled: boolean): Promise<Call> {
    if (typeof enabled !== 'boolean') throw new DomainError('invalidRequest', 'invalidCallRequest', 'muteOnEntry must be a boolean');
    const call = this.service.getCall(callId);
    // Switching it off lets newcomers in unmuted: permissive, so it needs the cluster's store.
    if (!enabled) this.service.requireDurableState('switch mute on entry off');
    call.muteOnEntry = enabled;
    await this.service.persistCallSettings(call);
    return call;
  }

  /**
   * Mutes everyone in the call except the listed participants, as one operation whose result
   * lists each participant's outcome (each mute is its own stored operation too). Its
   * `operationFinished` is emitted safely, like every domain event: a listener's error does not
   * change the outcome.
   */
  async muteAll(callId: string, exceptParticipantIds: readonly string[], role: ActorRole, clientContext?: string): Promise<Operation> {
    const call = this.service.getCall(callId);
    if (call.kind === 'peerToPeer') {
      throw new DomainError('invalidRequest', 'groupCallsOnly', `mute all is only supported in group calls; call ${call.id} is peer-to-peer`);
    }
    if (clientContext !== undefined) opaqueText(clientContext, 'clientContext', CLIENT_CONTEXT_MAX_LENGTH, 'invalidClientContext');
    // Exemptions are about people too: an id a rejoin replaced exempts that person's current leg.
    const except = new Set(exceptParticipantIds.flatMap((id) => call.currentLeg(id)?.speaker.identityKey ?? []));
    const started = process.hrtime.bigint();
    const operation = newOperation('muteAll', call.id, '', clientContext);
    call.operations.add(operation);
    const targets = [...call.participants.values()].filter((p) => !except.has(p.speaker.identityKey));
    const results: ParticipantResult[] = await Promise.all(
      targets.map(async (p): Promise<ParticipantResult> => {
        try {
          const op = await this.service.muteParticipant(call.id, p.id, clientContext, started, role);
          return { participantId: p.id, status: 'completed', operationId: op.id };
        } catch (err) {
          const failure = err instanceof DomainError ? err : new DomainError('mediaUnavailable', 'mediaOperationFailed', (err as Error).message);
          return {
            participantId: p.id,
            status: 'failed',
            ...(failure.operationId ? { operationId: failure.operationId } : {}),
            resultInfo: { code: failure.kind === 'notFound' ? 404 : 503, subcode: 0, message: failure.message },
          };
        }
      }),
    );
    operation.results = results;
    operation.status = results.every((r) => r.status === 'completed') ? 'completed' : 'failed';
    operation.lastActionDateTime = new Date();
    operation.finishedSequence = call.nextOperationSequence();
    this.service.emit('operationFinished', operation, Number(process.hrtime.bigint() - started) / 1e9);
    return operation;
  }

  private target(callId: string, participantId: string): { call: Call; participant: Participant } {
    const call = this.service.getCall(callId);
    return { call, participant: this.service.actionTarget(call.id, participantId) };
  }
}
