import { SerialQueue } from '../lib/SerialQueue.js';

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

  constructor(readonly identityKey: string) {}
}
