import type { Logger } from 'pino';
import type { CallService } from '../../control/CallService.js';
import { DomainError } from '../../control/errors.js';
import type { Participant } from '../../control/Participant.js';

/**
 * Keeps a WebRTC participant in the call for a grace period after its signaling connection
 * closed or its ICE/DTLS failed, then removes it (the roster says so). Joining again with the
 * same identity inside the grace period replaces the old leg, so the timer finds nothing to do;
 * the mute state belongs to the identity and survives either way.
 */
export class WebRtcPresence {
  private readonly timers = new Map<Participant, NodeJS.Timeout>();

  constructor(
    private readonly service: CallService,
    private readonly graceMs: number,
    private readonly log: Logger,
  ) {}

  /** Starts the grace period (once; later calls for the same participant change nothing). */
  release(participant: Participant, reason: string): void {
    if (this.timers.has(participant)) return;
    this.log.info({ participantId: participant.id, reason, graceMs: this.graceMs }, 'WebRTC participant disconnected; removing after the grace period');
    const timer = setTimeout(() => {
      this.timers.delete(participant);
      this.service.removeLeg(participant).catch((err: unknown) => {
        // Already gone (left, replaced by a reconnect, call ended): nothing to do.
        if (!(err instanceof DomainError && err.kind === 'notFound')) this.log.error({ err }, 'could not remove a disconnected participant');
      });
    }, this.graceMs);
    timer.unref();
    this.timers.set(participant, timer);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
