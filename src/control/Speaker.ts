import { SerialQueue } from '../lib/SerialQueue.js';
import { DomainError } from './errors.js';
import { TokenBucket } from './TokenBucket.js';

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
  /** Token bucket of the person's own requests (limits.ownRequestsPerSecond). */
  private readonly ownRequests = new TokenBucket();
  /** Token bucket of the person's own media changes (joins, new send streams, WebRTC produces). */
  private readonly ownMediaChanges = new TokenBucket();

  constructor(readonly identityKey: string) {}

  /**
   * Admits one more request the person makes of its own identity, or refuses it (429) when
   * `limits.inFlight` are unfinished already, or when it asks faster than `limits.perSecond`
   * (a burst of twice that is allowed). Its requests run in this queue, and so do a moderator's
   * mute, lock and removal of it: unbounded, a person flooding its own queue would hold those off
   * for as long as it liked; and each change it makes is a roster update to every subscriber of
   * the call. Call the returned function once, when the request is finished.
   *
   * A media change (the person joining, replacing its send stream, producing again over WebRTC)
   * is also held to `limits.mediaChangesPerMinute` (a burst of a third of that): each one rebuilds
   * what every other participant receives of this person (a consumer closed and one created in a
   * worker for each of them, and their clients told), so its cost grows with the call. At the
   * per-second rate alone, one participant replacing its stream ten times a second in a call of
   * 150 tripled the gateway's CPU and the mute p99 of everyone (native-bench/streamChurnCost.ts).
   * A refused request takes nothing from either allowance.
   */
  admitOwnRequest(limits: { inFlight: number; perSecond: number; mediaChangesPerMinute?: number | undefined }, mediaChange = false): () => void {
    if (this.ownInFlight >= limits.inFlight) {
      throw new DomainError('rateLimited', 'tooManyOwnRequests', `${limits.inFlight} requests of this participant about itself are still running (limits.ownRequestsInFlight); wait for their answers`);
    }
    const now = performance.now();
    if (!this.ownRequests.has(now, limits.perSecond, 2 * limits.perSecond)) {
      throw new DomainError('rateLimited', 'tooManyOwnRequests', `this participant asks about itself faster than ${limits.perSecond} requests per second (limits.ownRequestsPerSecond); slow down`);
    }
    const perMinute = limits.mediaChangesPerMinute ?? Infinity;
    if (mediaChange && !this.ownMediaChanges.has(now, perMinute / 60, Math.max(1, Math.floor(perMinute / 3)))) {
      throw new DomainError(
        'rateLimited',
        'tooManyMediaChanges',
        `this participant joins or replaces its stream faster than ${perMinute} times a minute (limits.ownMediaChangesPerMinute); each rebuilds what everyone else receives of it; slow down`,
      );
    }
    this.ownRequests.take();
    if (mediaChange) this.ownMediaChanges.take();
    this.ownInFlight++;
    return () => {
      this.ownInFlight--;
    };
  }
}
