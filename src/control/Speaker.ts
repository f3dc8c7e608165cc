import { SerialQueue } from '../lib/SerialQueue.js';
import { DomainError } from './errors.js';

/**
 * The mute state of one identity in one call, and the queue that serializes everything that
 * touches it: mute, unmute, joining, leaving and new send streams. Because every change to the
 * state and to the identity's media runs in this queue, the state and the media can never
 * disagree, and a producer created while muted is always created paused.
 *
 * It outlives the participant: the same person rejoining (a new participant id) is still muted.
 */
export class Speaker {
  /** Confirmed by the media worker (or nothing was flowing). Authoritative. */
  muted = false;
  /** Hard-muted by a moderator: the person cannot unmute itself until unlocked. */
  locked = false;
  /** Hears nobody: every consumer of this person is paused (confirmed by the worker). */
  deafened = false;
  /** Asked to speak. */
  handRaised = false;
  /** Has joined this call before (mute on entry applies to first joins only). */
  hasJoined = false;
  readonly queue = new SerialQueue();
  /** Requests of the person itself admitted and not finished (see admitOwnRequest). */
  private ownInFlight = 0;
  /** Token bucket of the person's own requests: tokens left, and when it was last refilled (performance.now()). */
  private ownTokens = Number.NaN;
  private ownRefilledAt = 0;

  constructor(readonly identityKey: string) {}

  /**
   * Admits one more request the person makes of its own identity, or refuses it (429) when
   * `limits.inFlight` are unfinished already, or when it asks faster than `limits.perSecond`
   * (a burst of twice that is allowed). Its requests run in this queue, and so do a moderator's
   * mute, lock and removal of it: unbounded, a person flooding its own queue would hold those off
   * for as long as it liked; and each change it makes is a roster update to every subscriber of
   * the call. Call the returned function once, when the request is finished.
   */
  admitOwnRequest(limits: { inFlight: number; perSecond: number }): () => void {
    if (this.ownInFlight >= limits.inFlight) {
      throw new DomainError('rateLimited', 'tooManyOwnRequests', `${limits.inFlight} requests of this participant about itself are still running (limits.ownRequestsInFlight); wait for their answers`);
    }
    const burst = 2 * limits.perSecond;
    const now = performance.now();
    this.ownTokens = Number.isNaN(this.ownTokens) ? burst : Math.min(burst, this.ownTokens + ((now - this.ownRefilledAt) / 1000) * limits.perSecond);
    this.ownRefilledAt = now;
    if (this.ownTokens < 1) {
      throw new DomainError('rateLimited', 'tooManyOwnRequests', `this participant asks about itself faster than ${limits.perSecond} requests per second (limits.ownRequestsPerSecond); slow down`);
    }
    this.ownTokens -= 1;
    this.ownInFlight++;
    return () => {
      this.ownInFlight--;
    };
  }
}
