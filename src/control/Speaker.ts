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
  readonly queue = new SerialQueue();

  constructor(readonly identityKey: string) {}
}
